"""One attempt at a delivery (the body of the `vigia.deliver_webhook` task).

Claim the attempt in a short transaction, POST without holding a lock, record the outcome.
Failures (no answer, timeout, non-2xx, a refused address) are retried after
base * 2**(attempt-1) seconds up to VIGIA_WEBHOOK_MAX_ATTEMPTS; a webhook with no success for
VIGIA_WEBHOOK_DISABLE_AFTER_SECONDS since its first failure is disabled, saying why. Test
deliveries are tried once and never count towards disabling.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.models.webhooks import Delivery, DeliveryStatus, Webhook
from integrations.webhooks.http import HttpOutcome, post
from integrations.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)
from integrations.webhooks.urlguard import UnsafeUrl, check_url

logger = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 3600.0


def backoff_seconds(attempt: int, base: float) -> float:
    """Wait before attempt `attempt + 1`: base, 2 base, 4 base, ... capped at an hour."""
    return min(MAX_BACKOFF_SECONDS, base * 2 ** max(0, attempt - 1))


def _claim(delivery_id: int) -> Delivery | None:
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update().select_related("webhook").filter(pk=delivery_id).first()
        )
        if delivery is None or delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED):
            return None
        if (
            delivery.status == DeliveryStatus.RETRYING
            and delivery.next_attempt_at is not None
            and delivery.next_attempt_at > timezone.now() + timedelta(seconds=1)
        ):
            return None  # a duplicate message that came early; the scheduled one will do it
        if not delivery.webhook.enabled and not delivery.is_test:
            delivery.status = DeliveryStatus.FAILED
            delivery.error = "not sent: the webhook is disabled"
            delivery.finished_at = timezone.now()
            delivery.save(update_fields=["status", "error", "finished_at"])
            return None
        delivery.attempts += 1
        delivery.save(update_fields=["attempts"])
    return delivery


def _send(delivery: Delivery) -> HttpOutcome:
    webhook = delivery.webhook
    try:
        target = check_url(webhook.url, allow_private=settings.VIGIA_WEBHOOK_ALLOW_PRIVATE)
    except UnsafeUrl as exc:
        return HttpOutcome(None, 0.0, f"refused: {exc}")
    body = delivery.body.encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Vigia-Webhooks/1",
        EVENT_HEADER: delivery.event,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(webhook.secret, timestamp, body),
        DELIVERY_HEADER: str(delivery.pk),
    }
    return post(target, body, headers, settings.VIGIA_WEBHOOK_TIMEOUT_SECONDS)


def attempt_delivery(delivery_id: int) -> float | None:
    """Try delivery `delivery_id` once. Returns the seconds until the retry to schedule, or None
    (delivered, given up, or nothing to do)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    outcome = _send(delivery)
    now = timezone.now()
    entry = {"at": now.isoformat(), "code": outcome.code, "duration_ms": round(outcome.duration_ms, 1),
             "error": outcome.error}
    retry_in: float | None = None
    with transaction.atomic():
        webhook = Webhook.objects.select_for_update().get(pk=delivery.webhook_id)
        fields = {
            "response_code": outcome.code, "duration_ms": outcome.duration_ms,
            "error": outcome.error, "log": [*delivery.log, entry][-20:],
        }
        if outcome.ok:
            fields.update(status=DeliveryStatus.SUCCEEDED, finished_at=now, next_attempt_at=None)
            if not delivery.is_test:
                webhook.failing_since = None
                webhook.last_success_at = now
                webhook.save(update_fields=["failing_since", "last_success_at"])
        elif delivery.is_test:
            fields.update(status=DeliveryStatus.FAILED, finished_at=now)
        else:
            if webhook.failing_since is None:
                webhook.failing_since = now
                webhook.save(update_fields=["failing_since"])
            failing_for = (now - webhook.failing_since).total_seconds()
            if webhook.enabled and failing_for >= settings.VIGIA_WEBHOOK_DISABLE_AFTER_SECONDS:
                webhook.disabled_at = now
                webhook.disabled_reason = (
                    f"disabled after failing for {failing_for / 3600:.1f} h without a success "
                    f"(last: {outcome.error or outcome.code})"
                )
                webhook.save(update_fields=["disabled_at", "disabled_reason"])
                logger.warning("webhook %s disabled: %s", webhook.pk, webhook.disabled_reason)
            if not webhook.enabled or delivery.attempts >= settings.VIGIA_WEBHOOK_MAX_ATTEMPTS:
                fields.update(status=DeliveryStatus.FAILED, finished_at=now, next_attempt_at=None)
            else:
                retry_in = backoff_seconds(delivery.attempts, settings.VIGIA_WEBHOOK_RETRY_BASE_SECONDS)
                fields.update(status=DeliveryStatus.RETRYING, next_attempt_at=now + timedelta(seconds=retry_in))
        Delivery.objects.filter(pk=delivery.pk).update(**fields)
    logger.info("webhook delivery %s (%s) attempt %s: %s %s", delivery.pk, delivery.event,
                delivery.attempts, outcome.code, outcome.error)
    return retry_in
