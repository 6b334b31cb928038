"""Celery tasks of training runs: thin wrappers over models_zoo.services.training."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

logger = logging.getLogger(__name__)


@shared_task(name="vigia.train_model", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def train_model(run_id: int) -> int | None:
    """Train TrainingRun `run_id`; idempotent (a run that is not queued is skipped). Returns the
    new ModelVersion id, if any."""
    from models_zoo.services.training import run_training

    version = run_training(int(run_id))
    return version.pk if version else None


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
