"""Celery task: import a large uploaded file (see annotator.importers.jobs)."""
from __future__ import annotations

from config.celery import app


# No automatic retry: an import is one transaction, and a failure is recorded on the job row
# with its reason for the admin (a redelivered message for a finished job does nothing).
@app.task(name="vigia.import_file")
def import_file_task(job_id: int) -> None:
    """Run ImportJob `job_id`; progress and outcome are written on the job row."""
    from annotator.importers.jobs import run_import_job

    run_import_job(job_id)
