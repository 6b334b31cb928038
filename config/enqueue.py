"""The one way services send Celery tasks: by registered name, never by importing `tasks`.

`enqueue` sends now and turns every way a broker can refuse into `BrokerUnavailable`, which the
REST and page edges answer with 503. `enqueue_on_commit` sends once the caller's transaction
commits; when the broker refuses then, `on_refused(reason)` runs so the caller can mark its row
failed with the reason (a row is never left queued for ever).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction

from config.celery import app

logger = logging.getLogger(__name__)


class BrokerUnavailable(Exception):
    """The task queue did not take the message; nothing was sent."""

    def __init__(self, task_name: str, reason: str) -> None:
        self.task_name = task_name
        self.reason = reason
        super().__init__(f"the task queue is unavailable ({task_name} was not sent): {reason}")


def enqueue(
    task_name: str,
    args: Sequence[Any] = (),
    *,
    queue: str | None = None,
    countdown: float | None = None,
) -> str:
    """Send task `task_name` with primitive `args`; returns the Celery task id.

    Raises BrokerUnavailable when the broker refuses or cannot be reached (kombu raises several
    types for that, all of them subclasses of Exception; publishing is not retried, so a dead
    broker answers within the connection timeout instead of hanging the request).
    """
    options: dict[str, Any] = {"retry": False}
    if queue:
        options["queue"] = queue
    if countdown is not None:
        options["countdown"] = countdown
    try:
        result = app.send_task(task_name, args=list(args), **options)
    except Exception as exc:  # noqa: BLE001 - kombu/redis/OSError: every refusal is one answer
        logger.warning("could not enqueue %s%r: %s", task_name, tuple(args), exc)
        raise BrokerUnavailable(task_name, str(exc) or type(exc).__name__) from exc
    return result.id or ""


def enqueue_on_commit(
    task_name: str,
    args: Sequence[Any] = (),
    *,
    queue: str | None = None,
    countdown: float | None = None,
    on_refused: Callable[[str], None] | None = None,
) -> None:
    """Send `task_name` once the current transaction commits (at once outside one).

    When the broker refuses, `on_refused(reason)` is called (mark the row failed) and the
    BrokerUnavailable propagates to the caller of the commit, so a request still answers 503.
    """

    def send() -> None:
        try:
            enqueue(task_name, args, queue=queue, countdown=countdown)
        except BrokerUnavailable as exc:
            if on_refused is not None:
                on_refused(exc.reason)
            raise

    transaction.on_commit(send)
