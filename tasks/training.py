"""Celery tasks of training runs: thin wrappers over models_zoo.services.training."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from config.enqueue import enqueue_best_effort

logger = logging.getLogger(__name__)


@shared_task(name="vigia.train_model", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def train_model(run_id: int) -> int | None:
    """Train TrainingRun `run_id`; idempotent (a run that is not queued is skipped). Returns the
    new ModelVersion id, if any.

    A message redelivered for a run that is still marked running (its worker was killed, or the
    broker's visibility timeout ran out during a long run) is not trained again; instead a reap
    is scheduled for when that run's heartbeat would be stale, so a dead run ends up failed
    even when nobody looks at it.
    """
    from models_zoo.models import RunState, TrainingRun
    from models_zoo.services.training_worker import run_training

    version = run_training(int(run_id))
    if version is None and TrainingRun.objects.filter(pk=run_id, state=RunState.RUNNING).exists():
        enqueue_best_effort("vigia.reap_stale_runs", countdown=settings.VIGIA_RUN_STALE_SECONDS + 5)
    return version.pk if version else None


@shared_task(name="vigia.reap_stale_runs", ignore_result=True)
def reap_stale_runs_task() -> int:
    """Mark runs with a stale heartbeat failed ("worker lost")."""
    from models_zoo.services.training import reap_stale_runs

    return reap_stale_runs()


@worker_ready.connect
def reap_on_worker_start(**kwargs: object) -> None:
    """A worker starting after a crash marks the runs its predecessor left running failed."""
    from models_zoo.services.training import reap_stale_runs

    try:
        reaped = reap_stale_runs()
    except Exception:  # a DB hiccup must not stop the worker from starting
        logger.exception("reaping stale training runs on worker start failed")
        return
    if reaped:
        logger.warning("marked %d stale training run(s) failed (worker lost)", reaped)
