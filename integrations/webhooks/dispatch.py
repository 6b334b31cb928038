"""From an event to deliveries: the receiver of config.events, and the delivery enqueue.

A receiver runs inside the emitting service's transaction (a savepoint of its own, so a
failure here never breaks the service's work); the delivery tasks are sent once it commits.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from config.enqueue import BrokerUnavailable, enqueue
from integrations.models.webhooks import Delivery, DeliveryStatus, Webhook

logger = logging.getLogger(__name__)


def on_event(sender: str, project_id: int, data: Any, **kwargs: Any) -> None:
    """Create one Delivery per enabled webhook of the project that wants `sender`.

    Everything runs in a savepoint: should a query fail here (the lazy data's, say), only the
    savepoint rolls back and the emitting service's transaction commits its work as usual."""
    with transaction.atomic():
        hooks = [
            h for h in Webhook.objects.filter(project_id=project_id, disabled_at__isnull=True)
            if sender in (h.events or [])
        ]
        if not hooks:
            return
        payload = data() if callable(data) else data
        if payload is None:  # nothing to announce after all (e.g. no day's counts changed)
            return
        body = json.dumps(
            {"event": sender, "project": project_id, "occurred_at": timezone.now().isoformat(),
             **dict(payload)},
            separators=(",", ":"), default=str,
        )
        ids = [Delivery.objects.create(webhook=h, event=sender, body=body).pk for h in hooks]
        enqueue_deliveries(ids)


def enqueue_deliveries(delivery_ids: list[int], countdown: float | None = None) -> None:
    """Send `vigia.deliver_webhook` for each delivery once the transaction commits. A broker
    refusal is recorded on the delivery (the worker's start-up sweep sends it later) and never
    raised into the service that emitted the event."""

    def send() -> None:
        for pk in delivery_ids:
            try:
                enqueue("vigia.deliver_webhook", [pk], countdown=countdown)
            except BrokerUnavailable as exc:
                Delivery.objects.filter(pk=pk).update(
                    error=f"not sent yet: the task queue is unavailable ({exc.reason})"
                )

    transaction.on_commit(send, robust=True)


def resend_stuck_deliveries(older_than: dt.timedelta = dt.timedelta(minutes=5)) -> int:
    """Re-send deliveries whose message was lost (broker down when the event happened, a dead
    worker): pending or retrying, and due for longer than `older_than`. Attempts are at least
    once; receivers deduplicate by X-Vigia-Delivery."""
    cutoff = timezone.now() - older_than
    stuck = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, created_at__lt=cutoff)
        .values_list("pk", flat=True)
    ) + list(
        Delivery.objects.filter(status=DeliveryStatus.RETRYING, next_attempt_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
    if stuck:
        enqueue_deliveries(stuck)
    return len(stuck)
