"""Is any Celery worker there to take a job? Heartbeats the workers write, read by the pages
that wait on a job (training run, import, embeddings, mining, simulation).

A worker's main process upserts its `WorkerHeartbeat` row every `HEARTBEAT_SECONDS`
(tasks/worker_heartbeat.py) and deletes it when it stops cleanly. A row not refreshed for
`VIGIA_WORKER_STALE_SECONDS` belongs to a worker that died. A page whose job has been queued
for `VIGIA_WORKER_WAIT_SECONDS` without a worker taking it says so (`waiting_notice`), naming
the command that starts one.

We chose heartbeats over Celery's `ping` because a ping is a broadcast round trip through the
broker on every page poll (a second's wait when nobody answers), while a heartbeat is one
indexed read, and works the same with Redis and with `filesystem://`.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from annotator.models_workers import WorkerHeartbeat
from config import hooks

HEARTBEAT_SECONDS = 5.0


@dataclass(frozen=True)
class WaitingNotice:
    """A job nobody has taken: how long it has waited, and what the page should say."""

    waited_seconds: int
    queue: str
    live_workers: int  # live workers on any queue
    live_on_queue: int  # of those, the ones consuming `queue`
    command: str

    @property
    def no_worker(self) -> bool:
        return self.live_on_queue == 0


def beat(hostname: str, queues: list[str], pid: int, started_at: datetime) -> None:
    """Record that worker `hostname` is alive now."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={"queues": ",".join(queues), "pid": pid, "started_at": started_at, "seen_at": now},
    )


def forget(hostname: str) -> None:
    """Worker `hostname` stopped cleanly."""
    WorkerHeartbeat.objects.filter(hostname=hostname).delete()


def live_workers(now: datetime | None = None) -> list[WorkerHeartbeat]:
    """Workers seen within VIGIA_WORKER_STALE_SECONDS."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.VIGIA_WORKER_STALE_SECONDS)
    return list(WorkerHeartbeat.objects.filter(seen_at__gte=cutoff))


def worker_command(queue: str) -> str:
    """The command that starts a worker on `queue`, as this installation would run it."""
    python = Path(sys.executable)
    try:
        shown = str(python.relative_to(settings.BASE_DIR))
    except ValueError:
        shown = str(python)
    return f"{shown} -m celery -A config worker -Q {queue} --loglevel=INFO"


def waiting_notice(queued_since: datetime | None, queue: str | None = None,
                   now: datetime | None = None) -> WaitingNotice | None:
    """A notice when a job queued at `queued_since` on `queue` has waited at least
    VIGIA_WORKER_WAIT_SECONDS; None while it is young (a worker takes a job within a second or
    two when one is idle)."""
    if queued_since is None:
        return None
    now = now or timezone.now()
    waited = (now - queued_since).total_seconds()
    if waited < settings.VIGIA_WORKER_WAIT_SECONDS:
        return None
    queue = queue or settings.CELERY_TASK_DEFAULT_QUEUE
    workers = live_workers(now)
    return WaitingNotice(
        waited_seconds=int(waited), queue=queue, live_workers=len(workers),
        live_on_queue=sum(queue in w.queue_names for w in workers),
        command=worker_command(queue),
    )


_WAITING_STATES = {"queued"}


def notice_for(job: Any, now: datetime | None = None) -> WaitingNotice | None:
    """The waiting notice of a job row (TrainingRun, ImportJob, EmbeddingSet, MiningRun,
    NegativesExperiment, Simulation): set while it is still queued."""
    state = getattr(job, "state", None) or getattr(job, "status", None)
    if state not in _WAITING_STATES:
        return None
    queue = None
    backend = getattr(job, "backend", None)
    if isinstance(backend, str) and backend:
        queue = hooks.call("training_queue", backend)
    # An embedding set is re-queued after each import: its updated_at is when that happened.
    since = getattr(job, "updated_at", None) or getattr(job, "created_at", None)
    return waiting_notice(since, queue, now)
