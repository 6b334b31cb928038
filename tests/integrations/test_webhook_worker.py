"""Webhook deliveries on a real Celery worker: a receiver on 127.0.0.1 that keeps answering 500
gets every attempt (signed), with backoff, until the attempts run out; once the webhook has
failed for longer than the disable window it is disabled and gets nothing more."""
from __future__ import annotations

import time

import pytest

from config.events import MODEL_PROMOTED, emit
from integrations.models import Delivery, Webhook
from integrations.webhooks.service import create_webhook
from tests.integrations.receiver import start_receiver, stop_receiver

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_settings(monkeypatch, settings):
    """What the worker process reads from its environment (and this process from settings)."""
    values = {
        "VIGIA_WEBHOOK_ALLOW_PRIVATE": "true",
        "VIGIA_WEBHOOK_RETRY_BASE_SECONDS": "0.5",
        "VIGIA_WEBHOOK_MAX_ATTEMPTS": "3",
        "VIGIA_WEBHOOK_DISABLE_AFTER_SECONDS": "3",
        "VIGIA_WEBHOOK_TIMEOUT_SECONDS": "2",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings.VIGIA_WEBHOOK_ALLOW_PRIVATE = True


def wait_for(predicate, timeout: float, what: str, worker) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}: {worker.log_path.read_text()[-3000:]}")


def test_failing_receiver_gets_retries_then_the_webhook_is_disabled(
    worker_settings, celery_worker_process, project
):
    hook = start_receiver(status=500)
    try:
        webhook = create_webhook(project, url=hook.url, events=["model.promoted"])
        hook.secret = webhook.secret
        emit(MODEL_PROMOTED, project.pk, {"model_version": 1})
        first = Delivery.objects.get(webhook=webhook)
        wait_for(lambda: Delivery.objects.get(pk=first.pk).status == "failed", 60,
                 "three failed attempts", celery_worker_process)
        first.refresh_from_db()
        assert (first.attempts, first.response_code) == (3, 500)
        assert [entry["code"] for entry in first.log] == [500, 500, 500]
        assert len(hook.requests) == 3 and all(r.signature_ok for r in hook.requests)
        # Backoff: 0.5 s then 1 s between the attempts (at least).
        stamps = [entry["at"] for entry in first.log]
        from datetime import datetime

        gaps = [(datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()
                for a, b in zip(stamps, stamps[1:])]
        assert gaps[0] >= 0.45 and gaps[1] >= 0.95, gaps
        webhook.refresh_from_db()
        assert webhook.enabled and webhook.failing_since is not None
        # Still failing more than 3 s after its first failure: the next failure disables it.
        time.sleep(max(0.0, 3.2 - (time.time() - webhook.failing_since.timestamp())))
        emit(MODEL_PROMOTED, project.pk, {"model_version": 2})
        wait_for(lambda: not Webhook.objects.get(pk=webhook.pk).enabled, 60, "the webhook disabled",
                 celery_worker_process)
        webhook.refresh_from_db()
        assert "without a success" in webhook.disabled_reason
        second = Delivery.objects.exclude(pk=first.pk).get(webhook=webhook)
        wait_for(lambda: Delivery.objects.get(pk=second.pk).status == "failed", 30,
                 "the second delivery given up", celery_worker_process)
        assert Delivery.objects.get(pk=second.pk).attempts == 1  # no retries once disabled
        # Disabled: a new event makes no delivery and the receiver hears nothing more.
        seen = len(hook.requests)
        emit(MODEL_PROMOTED, project.pk, {"model_version": 3})
        time.sleep(1.0)
        assert Delivery.objects.filter(webhook=webhook).count() == 2
        assert len(hook.requests) == seen
    finally:
        stop_receiver(hook)


def test_a_receiver_that_recovers_gets_the_retried_delivery(worker_settings, celery_worker_process, project):
    hook = start_receiver(status=503)
    try:
        webhook = create_webhook(project, url=hook.url, events=["model.promoted"])
        hook.secret = webhook.secret
        emit(MODEL_PROMOTED, project.pk, {"model_version": 7})
        wait_for(lambda: len(hook.requests) >= 1, 30, "the first attempt", celery_worker_process)
        hook.status = 204
        delivery = Delivery.objects.get(webhook=webhook)
        wait_for(lambda: Delivery.objects.get(pk=delivery.pk).status == "succeeded", 30,
                 "the retry to succeed", celery_worker_process)
        delivery.refresh_from_db()
        assert [e["code"] for e in delivery.log] == [503, 204]
        webhook.refresh_from_db()
        assert webhook.failing_since is None and webhook.last_success_at is not None
        # Every attempt carried the same body and a valid signature over its own timestamp.
        assert len({r.body for r in hook.requests}) == 1 and all(r.signature_ok for r in hook.requests)
    finally:
        stop_receiver(hook)
