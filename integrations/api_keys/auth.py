"""DRF authentication for project API keys: `Authorization: Api-Key <key>`.

Built on DRF's own TokenAuthentication (its header parsing and error answers), not on
djangorestframework-api-key: that library authorises through permission classes and leaves
`request.user` anonymous, while every Vigia view decides access from `request.user`'s role in
the project. Here a key authenticates as its own service user (`ApiKey.principal`), confined to
its project (annotator.permissions reads `vigia_confined_to`), and the operation must be within
the key's scopes (integrations.api_keys.scopes), else 403 naming the missing scope.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request

from annotator.models import Role
from integrations.api_keys.scopes import operation_name, scope_needed
from integrations.api_keys.secrets import hash_key
from integrations.models.api_keys import ApiKey, Scope

# last_used_at is written at most this often per key: one UPDATE a minute, not one per request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


class MissingScope(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "missing_scope"

    def __init__(self, detail: str, scope: str | None) -> None:
        super().__init__()
        self.detail = {"detail": detail, "missing_scope": scope}


def role_for_scopes(scopes: list[str]) -> str:
    """The project role a key acts with. Scopes gate each operation; the role only has to be
    high enough for them: importing needs the admin role, everything else a viewer's."""
    return Role.ADMIN if Scope.IMPORT in scopes else Role.VIEWER


class ApiKeyAuthentication(TokenAuthentication):
    keyword = "Api-Key"

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiKey]:
        api_key = (
            ApiKey.objects.select_related("principal").filter(hashed_key=hash_key(key)).first()
        )
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if api_key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key was revoked.")
        if api_key.expired:
            raise exceptions.AuthenticationFailed(
                f"This API key expired at {api_key.expires_at.isoformat()}."
            )
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        user = api_key.principal
        user.vigia_confined_to = (api_key.project_id, role_for_scopes(api_key.scopes))
        return user, api_key

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        _, api_key = result
        check_scope(api_key, request)
        return result


def check_scope(api_key: ApiKey, request: Request) -> None:
    """Raise MissingScope unless the request's operation is within the key's scopes."""
    name = operation_name(getattr(request._request, "resolver_match", None))
    needed = scope_needed(name, request.method or "")
    if needed is None:
        raise MissingScope(
            f"API keys cannot call {request.method} {request.path}: no key scope covers it "
            "(keys have predict, read, import and export; this needs a person's login).",
            None,
        )
    if needed not in api_key.scopes:
        have = ", ".join(api_key.scopes) or "none"
        raise MissingScope(
            f"This API key lacks the '{needed}' scope needed for {request.method} "
            f"{request.path} (it has: {have}).",
            needed,
        )


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of API keys (drf-spectacular would otherwise take this
    class for DRF's token scheme, which it subclasses)."""

    target_class = "integrations.api_keys.auth.ApiKeyAuthentication"
    name = "apiKeyAuth"
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "A project API key: `Api-Key <key>` (scopes: predict, read, import, export)",
        }
