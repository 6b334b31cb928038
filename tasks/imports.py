"""Celery tasks: import a large uploaded file (see annotator.importers.jobs), reap dead imports."""
from __future__ import annotations

import logging

from celery.signals import worker_ready
from django.conf import settings

from config.celery import app
from config.enqueue import enqueue_best_effort

logger = logging.getLogger(__name__)


# No automatic retry: an import is one transaction, and a failure is recorded on the job row
# with its reason for the admin. acks_late + reject_on_worker_lost: a worker killed mid-import
# gives the message back; the redelivered task finds the job still `running` and schedules a
# reap for when its heartbeat is stale, so the job ends up failed (upload removed) within about
# VIGIA_IMPORT_STALE_SECONDS even when nobody looks at it.
@app.task(name="vigia.import_file", acks_late=True, reject_on_worker_lost=True)
def import_file_task(job_id: int) -> None:
    """Run ImportJob `job_id`; progress and outcome are written on the job row."""
    from annotator.importers.jobs import run_import_job
    from annotator.models import ImportStatus

    job = run_import_job(job_id)
    if job is not None and job.status == ImportStatus.RUNNING:
        enqueue_best_effort("vigia.reap_stale_imports", countdown=settings.VIGIA_IMPORT_STALE_SECONDS + 5)


@app.task(name="vigia.reap_stale_imports", ignore_result=True)
def reap_stale_imports_task() -> int:
    """Mark import jobs with a stale heartbeat failed ("worker lost") and remove their uploads."""
    from annotator.importers.jobs import reap_stale_imports

    return reap_stale_imports()


@worker_ready.connect
def reap_imports_on_worker_start(**kwargs: object) -> None:
    """A worker starting after a crash fails the imports its predecessor left running."""
    from annotator.importers.jobs import reap_stale_imports

    try:
        reaped = reap_stale_imports()
    except Exception:  # a DB hiccup must not stop the worker from starting
        logger.exception("reaping stale import jobs on worker start failed")
        return
    if reaped:
        logger.warning("marked %d stale import job(s) failed (worker lost)", reaped)
