"""Is any Celery worker there to take a job? Heartbeats the workers write, read by the pages
that wait on a job (training run, import, embeddings, mining, simulation, prediction refresh,
batch scoring).

A worker's main process upserts its `WorkerHeartbeat` row every `HEARTBEAT_SECONDS`
(tasks/worker_heartbeat.py) and deletes it when it stops cleanly. A row not refreshed for
`VIGIA_WORKER_STALE_SECONDS` belongs to a worker that died. A page whose job has been queued
for `VIGIA_WORKER_WAIT_SECONDS` without a worker taking it says so (`waiting_notice`), naming
the command that starts one.

A job that has started (a prediction refresh, a batch scoring job, an embedding set with some
chunks done) but whose remaining chunks nobody works on says so too (`idle_notice`): the job
tells when it last showed a sign of work (`idle_since()`), and the notice appears once that is
VIGIA_WORKER_WAIT_SECONDS old and no live worker reads its queue (a live worker busy with a long
chunk is working, not gone). The wait is written for people (`human_duration`: "4 min").

We chose heartbeats over Celery's `ping` because a ping is a broadcast round trip through the
broker on every page poll (a second's wait when nobody answers), while a heartbeat is one
indexed read, and works the same with Redis and with `filesystem://`.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Max, QuerySet
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
    # The job had started (some of its chunks taken or done): nobody has *worked* on it since.
    started: bool = False

    @property
    def no_worker(self) -> bool:
        return self.live_on_queue == 0

    @property
    def waited(self) -> str:
        """`waited_seconds` as people read it ("78 s", "4 min", "2 h 5 min", "3 days")."""
        return human_duration(self.waited_seconds)


def human_duration(seconds: float) -> str:
    """A wait as people say it, rounded down (a notice never overstates it): seconds under two
    minutes ("78 s"), then minutes ("4 min"), hours and minutes ("2 h 5 min", "3 h"), one day
    and its hours ("1 day 4 h"), then days ("3 days")."""
    total = max(0, int(seconds))
    if total < 120:
        return f"{total} s"
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    if days < 2:
        return f"1 day {hours} h" if hours else "1 day"
    return f"{days} days"


def last_activity(chunks: QuerySet[Any], fields: Sequence[str], *times: datetime | None) -> datetime:
    """A chunked job's last sign of work (its `idle_since()`): the latest of `times` (the job's
    own, e.g. its creation) and of its chunks' timestamp `fields`, in one aggregate."""
    latest = chunks.aggregate(**{field: Max(field) for field in fields})
    return max(t for t in (*times, *latest.values()) if t is not None)


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


def idle_notice(idle_since: datetime | None, queue: str | None = None,
                now: datetime | None = None) -> WaitingNotice | None:
    """A notice for a started job whose last sign of work was at `idle_since`, once that is
    VIGIA_WORKER_WAIT_SECONDS old and no live worker reads `queue`; None otherwise (a live
    worker on the queue may be busy with a long chunk of it). Reads the heartbeats only when
    the job has been idle that long."""
    if idle_since is None:
        return None
    now = now or timezone.now()
    idle = (now - idle_since).total_seconds()
    if idle < settings.VIGIA_WORKER_WAIT_SECONDS:
        return None
    queue = queue or settings.CELERY_TASK_DEFAULT_QUEUE
    workers = live_workers(now)
    on_queue = sum(queue in w.queue_names for w in workers)
    if on_queue:
        return None
    return WaitingNotice(
        waited_seconds=int(idle), queue=queue, live_workers=len(workers), live_on_queue=0,
        command=worker_command(queue), started=True,
    )


_WAITING_STATES = {"queued"}
_STARTED_STATES = {"running"}


def _queue_of(job: Any) -> str | None:
    """The Celery queue the job's tasks go to: its backend's training queue, else its own
    `queue` field (PredictionJob, ScoringJob), else None (the default queue: imports, embedding chunks,
    mining and simulations are sent without a queue and no task route moves them)."""
    backend = getattr(job, "backend", None)
    if isinstance(backend, str) and backend:
        return hooks.call("training_queue", backend)
    queue = getattr(job, "queue", None)
    return queue if isinstance(queue, str) and queue else None


def notice_for(job: Any, now: datetime | None = None) -> WaitingNotice | None:
    """The waiting notice of a job row (TrainingRun, ImportJob, EmbeddingSet, MiningRun,
    NegativesExperiment, Simulation, PredictionJob, ScoringJob): set while it is still queued,
    and for a running job that tells when it last showed a sign of work (`idle_since()`:
    EmbeddingSet, PredictionJob, ScoringJob) while no live worker reads its queue."""
    state = getattr(job, "state", None) or getattr(job, "status", None)
    if state in _WAITING_STATES:
        # An embedding set is re-queued after each import: its updated_at is when that happened.
        since = getattr(job, "updated_at", None) or getattr(job, "created_at", None)
        return waiting_notice(since, _queue_of(job), now)
    idle_since = getattr(job, "idle_since", None)
    if state in _STARTED_STATES and callable(idle_since):
        return idle_notice(idle_since(), _queue_of(job), now)
    return None
