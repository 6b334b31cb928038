"""The one way Vigia sends Celery tasks: by registered name, never by importing `tasks`.

`enqueue` sends now and turns every way a broker can refuse into `BrokerUnavailable`, which the
REST and page edges answer with 503 (`config.api_errors`, `config.middleware`).
`enqueue_on_commit` sends once the caller's transaction commits; when the broker refuses then,
`on_refused(reason)` runs so the caller can mark its row failed with the reason (a row is never
left queued for ever) and the BrokerUnavailable reaches the request, which answers 503.

A dead broker answers fast: the pooled connection is (re)established with one attempt
(`VIGIA_BROKER_CONNECT_RETRIES`, default 0 retries) and, on Redis, a connect and socket timeout
of `VIGIA_BROKER_TIMEOUT` seconds (settings), and publishing is never retried. kombu's defaults
retried a refused connection for about 6 s and waited for ever on a broker that does not answer.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction

from config.celery import app

logger = logging.getLogger(__name__)


class BrokerUnavailable(Exception):
    """The task queue did not take the message; nothing was sent."""

    def __init__(self, task_name: str, reason: str) -> None:
        self.task_name = task_name
        self.reason = reason
        super().__init__(f"the task queue is unavailable ({task_name} was not sent): {reason}")


def _options(queue: str | None, countdown: float | None) -> dict[str, Any]:
    options: dict[str, Any] = {"retry": False}
    if queue:
        options["queue"] = queue
    if countdown is not None:
        options["countdown"] = countdown
    return options


def enqueue_many(
    task_name: str,
    args_list: Iterable[Sequence[Any]],
    *,
    queue: str | None = None,
    countdown: float | None = None,
) -> list[str]:
    """Send `task_name` once per args in `args_list` over one broker connection; returns the
    task ids. Raises BrokerUnavailable at the first refusal (messages sent before it stay sent:
    every task is idempotent, and callers mark their row failed so it can be resumed)."""
    options = _options(queue, countdown)
    ids: list[str] = []
    try:
        with app.producer_or_acquire() as producer:
            # One attempt, bounded by the transport's connect timeout: a refused or silent broker
            # is a 503 within seconds instead of kombu's retry loop.
            producer.connection.ensure_connection(
                max_retries=settings.VIGIA_BROKER_CONNECT_RETRIES,
                timeout=settings.VIGIA_BROKER_TIMEOUT,
            )
            for args in args_list:
                result = app.send_task(task_name, args=list(args), producer=producer, **options)
                ids.append(result.id or "")
    except Exception as exc:  # noqa: BLE001 - kombu/redis/OSError: every refusal is one answer
        logger.warning("could not enqueue %s (%d sent before): %s", task_name, len(ids), exc)
        raise BrokerUnavailable(task_name, str(exc) or type(exc).__name__) from exc
    return ids


def enqueue(
    task_name: str,
    args: Sequence[Any] = (),
    *,
    queue: str | None = None,
    countdown: float | None = None,
) -> str:
    """Send task `task_name` with primitive `args`; returns the Celery task id.

    Raises BrokerUnavailable when the broker refuses or cannot be reached."""
    return enqueue_many(task_name, [args], queue=queue, countdown=countdown)[0]


def enqueue_on_commit(
    task_name: str,
    args: Sequence[Any] = (),
    *,
    queue: str | None = None,
    countdown: float | None = None,
    on_refused: Callable[[str], None] | None = None,
    many: Sequence[Sequence[Any]] | None = None,
) -> None:
    """Send `task_name` once the current transaction commits (at once outside one); `many`
    sends one message per args instead of `args`.

    When the broker refuses, `on_refused(reason)` is called (mark the row failed) and the
    BrokerUnavailable propagates to whoever committed, so a request still answers 503.
    """

    def send() -> None:
        try:
            if many is not None:
                enqueue_many(task_name, many, queue=queue, countdown=countdown)
            else:
                enqueue(task_name, args, queue=queue, countdown=countdown)
        except BrokerUnavailable as exc:
            if on_refused is not None:
                on_refused(exc.reason)
            raise

    transaction.on_commit(send)


def enqueue_best_effort(
    task_name: str,
    args: Sequence[Any] = (),
    *,
    queue: str | None = None,
    countdown: float | None = None,
) -> bool:
    """Send a task whose loss harms nothing but timeliness (a reaper scheduled by a worker, which
    also runs on every worker start); a refusal is logged, not raised. True when sent."""
    try:
        enqueue(task_name, args, queue=queue, countdown=countdown)
    except BrokerUnavailable:
        return False
    return True
