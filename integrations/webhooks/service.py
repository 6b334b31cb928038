"""Register, list, enable and test webhooks: the one place the pages and REST call."""
from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotator.models import Project
from config.events import EVENTS
from integrations.models.webhooks import Delivery, Webhook
from integrations.webhooks.dispatch import enqueue_deliveries
from integrations.webhooks.signing import new_secret
from integrations.webhooks.urlguard import UnsafeUrl, check_url

logger = logging.getLogger(__name__)
TEST_EVENT = "ping"


class WebhookError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        self.message, self.field = message, field
        super().__init__(f"{field}: {message}")


def parse_events(raw: Any) -> list[str]:
    if isinstance(raw, str):
        raw = [part for part in raw.replace(",", " ").split() if part]
    if not isinstance(raw, (list, tuple)) or not raw:
        raise WebhookError(f"give at least one event of: {', '.join(EVENTS)}.", "events")
    unknown = [e for e in raw if e not in EVENTS]
    if unknown:
        raise WebhookError(f"unknown event {unknown[0]!r}; valid: {', '.join(EVENTS)}.", "events")
    return [e for e in EVENTS if e in raw]


def check_webhook_url(url: Any) -> str:
    if not isinstance(url, str):
        raise WebhookError("give the receiver's URL as a string.", "url")
    if len(url) > 2000:
        raise WebhookError("at most 2000 characters.", "url")
    try:
        check_url(url, allow_private=settings.VIGIA_WEBHOOK_ALLOW_PRIVATE)
    except UnsafeUrl as exc:
        raise WebhookError(f"{exc}.", "url") from None
    return url.strip()


def create_webhook(project: Project, *, url: Any, events: Any, created_by: Any = None) -> Webhook:
    """A new webhook; its secret is on the returned row (show it once)."""
    checked = check_webhook_url(url)
    event_list = parse_events(events)
    webhook = Webhook.objects.create(
        project=project, url=checked, events=event_list, secret=new_secret(),
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    logger.info("project %s: webhook %s -> %s for %s", project.pk, webhook.pk, checked, event_list)
    return webhook


def enable_webhook(webhook: Webhook) -> Webhook:
    """Turn a disabled webhook back on, with a clean failure record."""
    webhook.disabled_at = None
    webhook.disabled_reason = ""
    webhook.failing_since = None
    webhook.save(update_fields=["disabled_at", "disabled_reason", "failing_since"])
    return webhook


def delete_webhook(webhook: Webhook) -> None:
    webhook.delete()


def send_test_event(webhook: Webhook) -> Delivery:
    """A "ping" delivery, sent once (no retries; it never disables the webhook)."""
    body = json.dumps({
        "event": TEST_EVENT, "project": webhook.project_id, "webhook": webhook.pk, "test": True,
        "occurred_at": timezone.now().isoformat(),
    }, separators=(",", ":"))
    with transaction.atomic():
        delivery = Delivery.objects.create(webhook=webhook, event=TEST_EVENT, body=body, is_test=True)
        enqueue_deliveries([delivery.pk])
    return delivery


def webhook_body(webhook: Webhook) -> dict[str, Any]:
    return {
        "id": webhook.pk,
        "url": webhook.url,
        "events": list(webhook.events),
        "enabled": webhook.enabled,
        "disabled_at": webhook.disabled_at,
        "disabled_reason": webhook.disabled_reason,
        "failing_since": webhook.failing_since,
        "last_success_at": webhook.last_success_at,
        "created_at": webhook.created_at,
    }


def delivery_body(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "webhook": delivery.webhook_id,
        "event": delivery.event,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "response_code": delivery.response_code,
        "duration_ms": None if delivery.duration_ms is None else round(delivery.duration_ms, 1),
        "error": delivery.error,
        "test": delivery.is_test,
        "created_at": delivery.created_at,
        "next_attempt_at": delivery.next_attempt_at,
        "finished_at": delivery.finished_at,
        "log": delivery.log,
        "payload": json.loads(delivery.body),
    }
