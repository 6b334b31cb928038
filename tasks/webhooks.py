"""Celery tasks of webhooks: one delivery attempt, and the start-up sweep of lost ones."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

logger = logging.getLogger(__name__)


@shared_task(name="vigia.deliver_webhook", acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    """Try Delivery `delivery_id` once; on failure schedule the next attempt with backoff.

    Idempotent: a delivered or given-up delivery is skipped, and a duplicate message that
    arrives before the scheduled retry is dropped (integrations.webhooks.deliver)."""
    from config.enqueue import BrokerUnavailable, enqueue
    from integrations.webhooks.deliver import attempt_delivery

    retry_in = attempt_delivery(int(delivery_id))
    if retry_in is not None:
        try:
            enqueue("vigia.deliver_webhook", [delivery_id], countdown=retry_in)
        except BrokerUnavailable:  # the start-up sweep re-sends it
            logger.warning("webhook delivery %s: retry not scheduled (broker down)", delivery_id)


@worker_ready.connect
def resend_lost_deliveries_on_start(**kwargs: object) -> None:
    from integrations.webhooks.dispatch import resend_stuck_deliveries

    try:
        resent = resend_stuck_deliveries()
    except Exception:  # a DB hiccup must not stop the worker from starting
        logger.exception("re-sending stuck webhook deliveries failed")
        return
    if resent:
        logger.warning("re-sent %d webhook deliveries whose messages were lost", resent)
