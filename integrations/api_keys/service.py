"""Create, list and revoke project API keys: the one place the pages and REST call."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from annotator.models import Project
from integrations.api_keys.secrets import generate_key
from integrations.models.api_keys import ApiKey, Scope

logger = logging.getLogger(__name__)


class ApiKeyError(ValueError):
    """Bad input for a key, naming the field."""

    def __init__(self, message: str, field: str) -> None:
        self.message, self.field = message, field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    key: str  # the secret: shown once, in the answer to the creation, and stored nowhere


def parse_scopes(raw: Any) -> list[str]:
    if isinstance(raw, str):
        raw = [part for part in raw.replace(",", " ").split() if part]
    if not isinstance(raw, (list, tuple)) or not raw:
        raise ApiKeyError(f"give at least one scope of: {', '.join(Scope.values)}.", "scopes")
    unknown = [s for s in raw if s not in Scope.values]
    if unknown:
        raise ApiKeyError(
            f"unknown scope {unknown[0]!r}; valid: {', '.join(Scope.values)}.", "scopes"
        )
    return [s for s in Scope.values if s in raw]  # canonical order, no repeats


def parse_expiry(raw: Any) -> dt.datetime | None:
    """None (never), an ISO date-time, or a date (the key works until the end of that UTC day)."""
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise ApiKeyError("must be an ISO 8601 date or date-time string.", "expires_at")
    when = parse_datetime(raw.strip())
    if when is None:
        day = parse_date(raw.strip())
        if day is None:
            raise ApiKeyError(f"{raw!r} is not an ISO 8601 date or date-time.", "expires_at")
        when = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    if timezone.is_naive(when):
        when = when.replace(tzinfo=dt.UTC)
    if when <= timezone.now():
        raise ApiKeyError("is in the past; a key must expire in the future.", "expires_at")
    return when


@transaction.atomic
def create_api_key(
    project: Project, *, name: Any, scopes: Any, expires_at: Any = None, created_by: Any = None
) -> CreatedKey:
    """A new key for `project` with its own service user (never a member, never able to log
    in). Raises ApiKeyError naming the field."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise ApiKeyError("give the key a name (e.g. the system that will use it).", "name")
    if len(name) > 100:
        raise ApiKeyError("at most 100 characters.", "name")
    scope_list = parse_scopes(scopes)
    expiry = parse_expiry(expires_at) if not isinstance(expires_at, dt.datetime) else expires_at
    key, prefix, hashed = generate_key()
    # ":" cannot appear in a username made by a person (Django's validator refuses it).
    principal = get_user_model().objects.create(
        username=f"api-key:{project.pk}:{prefix}:{hashed[:8]}", is_active=False,
    )
    principal.set_unusable_password()
    principal.save(update_fields=["password"])
    api_key = ApiKey.objects.create(
        project=project, name=name, scopes=scope_list, prefix=prefix, hashed_key=hashed,
        principal=principal, created_by=created_by if getattr(created_by, "pk", None) else None,
        expires_at=expiry,
    )
    logger.info("project %s: API key %s (%s) created with scopes %s", project.pk, api_key.pk,
                name, ",".join(scope_list))
    return CreatedKey(api_key=api_key, key=key)


def revoke_api_key(api_key: ApiKey) -> ApiKey:
    """Revoke now (idempotent); the row stays for the record."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        logger.info("project %s: API key %s revoked", api_key.project_id, api_key.pk)
    return api_key


def delete_principal(sender: Any, instance: ApiKey, **kwargs: Any) -> None:
    """post_delete of an ApiKey (its project was deleted): remove its service user too."""
    get_user_model().objects.filter(pk=instance.principal_id, is_active=False).delete()


def keys_of(project: Project) -> list[ApiKey]:
    return list(ApiKey.objects.filter(project=project).select_related("created_by"))


def key_body(api_key: ApiKey) -> dict[str, Any]:
    """The REST shape of a key, without its secret."""
    return {
        "id": api_key.pk,
        "name": api_key.name,
        "prefix": f"vgk_{api_key.prefix}",
        "scopes": list(api_key.scopes),
        "state": api_key.state,
        "created_at": api_key.created_at,
        "created_by": api_key.created_by.get_username() if api_key.created_by else None,
        "expires_at": api_key.expires_at,
        "last_used_at": api_key.last_used_at,
        "revoked_at": api_key.revoked_at,
    }
