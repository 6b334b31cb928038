"""Large files import as a Celery task with progress on an ImportJob row.

    if should_import_async(upload):
        job = start_import_job(project, upload, "csv", mapping, request.user)

The upload is streamed to settings.VIGIA_UPLOAD_DIR, the ImportJob row is created and the task
(`vigia.import_file`) is enqueued once the surrounding transaction commits. The task runs
`run_import_job`, which reports processed bytes and rows while it reads and finally sets the
status, counts and errors.

A dead worker does not leave a job `running` forever: the task acks late (the message comes back
when the worker dies), the job carries a heartbeat written by a thread while it imports, and
`reap_stale_imports` marks jobs whose heartbeat is older than VIGIA_IMPORT_STALE_SECONDS failed
and removes their upload. Nothing of a dead import is stored: it was one transaction.
"""
from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from annotator.importers.errors import EnqueueFailed, ImportFailed
from annotator.importers.service import import_file
from annotator.models import ImportJob, ImportStatus, Project
from config.enqueue import BrokerUnavailable, enqueue
from config.events import IMPORT_FINISHED, emit
from config.failures import public_reason

logger = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def should_import_async(uploaded_file: Any) -> bool:
    """True when the upload is larger than settings.VIGIA_IMPORT_ASYNC_BYTES."""
    return (getattr(uploaded_file, "size", 0) or 0) > settings.VIGIA_IMPORT_ASYNC_BYTES


def start_import_job(
    project: Project, uploaded_file: Any, fmt: str, mapping: dict[str, Any] | None, user: Any,
    on_error: str = "stop",
) -> ImportJob:
    """Save the upload to disk (chunk by chunk), create the job, enqueue the task on commit.

    Raises EnqueueFailed (the REST answer is 503) when the broker cannot take the task; the job
    row and the upload are removed then, so nothing waits for a task that will never run."""
    reap_stale_imports(project=project)
    upload_dir = Path(settings.VIGIA_UPLOAD_DIR)
    upload_dir.mkdir(parents=True, exist_ok=True)
    original = getattr(uploaded_file, "name", "") or "upload"
    path = upload_dir / f"{uuid.uuid4().hex}-{_SAFE_NAME.sub('_', Path(original).name)[-100:]}"
    size = 0
    with open(path, "wb") as out:
        chunks = uploaded_file.chunks() if hasattr(uploaded_file, "chunks") else iter(
            lambda: uploaded_file.read(1 << 20), b""
        )
        for chunk in chunks:
            out.write(chunk)
            size += len(chunk)
    job = ImportJob.objects.create(
        project=project,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        path=str(path),
        original_name=original[:255],
        format=fmt,
        mapping=mapping or {},
        total_bytes=size,
        on_error=on_error,
    )
    transaction.on_commit(lambda: _enqueue(job))
    return job


IMPORT_TASK = "vigia.import_file"


def _enqueue(job: ImportJob) -> None:
    try:
        enqueue(IMPORT_TASK, [job.pk])
    except BrokerUnavailable as exc:
        ImportJob.objects.filter(pk=job.pk).delete()
        Path(job.path).unlink(missing_ok=True)
        raise EnqueueFailed(exc.task_name, exc.reason) from exc


def announce_import_job(job_id: int) -> None:
    """`import.finished` for downstream systems (config.events), with the job's outcome."""
    row = (
        ImportJob.objects.filter(pk=job_id)
        .values("project_id", "status", "imported", "duplicates", "skipped")
        .first()
    )
    if row is not None:
        emit(IMPORT_FINISHED, row.pop("project_id"), {"import_job": job_id, "state": row.pop("status"), **row})


def reap_stale_imports(project: Project | None = None, job_id: int | None = None) -> int:
    """Mark running jobs whose heartbeat is older than VIGIA_IMPORT_STALE_SECONDS failed
    ("worker lost") and remove their uploads. Returns how many were reaped."""
    stale_s = settings.VIGIA_IMPORT_STALE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=stale_s)
    stale = ImportJob.objects.filter(status=ImportStatus.RUNNING, heartbeat_at__lt=cutoff)
    if project is not None:
        stale = stale.filter(project=project)
    if job_id is not None:
        stale = stale.filter(pk=job_id)
    message = (
        f"worker lost: no heartbeat for more than {stale_s} s; nothing was imported, "
        "upload the file again"
    )
    reaped = 0
    for pk, path in list(stale.values_list("pk", "path")):
        updated = ImportJob.objects.filter(
            pk=pk, status=ImportStatus.RUNNING, heartbeat_at__lt=cutoff
        ).update(
            status=ImportStatus.FAILED, finished_at=timezone.now(),
            errors=[{"line": None, "message": message}],
        )
        if updated:
            Path(path).unlink(missing_ok=True)
            logger.warning("import job %s: %s", pk, message)
            announce_import_job(pk)
            reaped += 1
    return reaped


class _Heartbeat(threading.Thread):
    """Beats on its own connection while the import runs, also through the long final insert,
    so only a dead worker leaves a stale heartbeat."""

    def __init__(self, job_id: int, interval: float) -> None:
        super().__init__(daemon=True, name=f"heartbeat-import-{job_id}")
        self.job_id = job_id
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                ImportJob.objects.filter(pk=self.job_id, status=ImportStatus.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        except Exception:
            logger.exception("import job %s: heartbeat stopped", self.job_id)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


def _progress_reporter(job_id: int) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """Progress goes through a second connection: the import's own transaction is not
    visible until it commits."""
    side = connections.create_connection(DEFAULT_DB_ALIAS)

    def report(processed: int, rows: int) -> None:
        with side.cursor() as cursor:
            cursor.execute(
                "UPDATE annotator_importjob SET processed_bytes = %s, rows_seen = %s WHERE id = %s",
                [processed, rows, job_id],
            )

    return report, side.close


def run_import_job(job_id: int) -> ImportJob | None:
    """Run one queued job (the body of the Celery task). Only a queued job is claimed: a
    redelivered message for a finished job does nothing, and one for a job still marked
    running (its worker died; acks_late brought the message back) leaves it to the reaper."""
    job = ImportJob.objects.filter(pk=job_id).select_related("project").first()
    if job is None:
        logger.warning("import job %s no longer exists", job_id)
        return None
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, heartbeat_at=timezone.now()
    )
    if not claimed:
        job.refresh_from_db()
        return job
    heartbeat = _Heartbeat(job.pk, max(0.5, min(10.0, settings.VIGIA_IMPORT_STALE_SECONDS / 6)))
    heartbeat.start()
    try:
        return _run_claimed(job)
    finally:
        heartbeat.stop()


def _run_claimed(job: ImportJob) -> ImportJob:
    write_progress, close = _progress_reporter(job.pk)
    seen = {"rows": 0}

    def report(processed: int, rows: int) -> None:
        seen["rows"] = rows
        write_progress(processed, rows)

    started = time.monotonic()
    fields: dict[str, Any] = {}
    try:
        result = import_file(
            job.project, job.path, job.format, mapping=job.mapping or None,
            user=job.created_by, progress=report, on_error=job.on_error or "stop",
        )
    except ImportFailed as exc:
        fields = {"status": ImportStatus.FAILED, "errors": exc.errors}
    except FileNotFoundError:
        fields = {
            "status": ImportStatus.FAILED,
            "errors": [{"line": None, "message": "the uploaded file is gone from the server"}],
        }
    except Exception as exc:
        logger.exception("import job %s crashed", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, finished_at=timezone.now(),
            errors=[{"line": None, "message": f"internal error: {public_reason(exc)}"}],
        )
        close()
        Path(job.path).unlink(missing_ok=True)
        announce_import_job(job.pk)
        raise
    else:
        fields = {
            "status": ImportStatus.SUCCEEDED,
            "imported": result.imported,
            "duplicates": result.duplicates,
            "skipped": result.skipped,
            "processed_bytes": job.total_bytes,
            "rows_seen": seen["rows"],
            "errors": result.errors,
        }
    finally:
        close()
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now(), **fields)
    Path(job.path).unlink(missing_ok=True)
    announce_import_job(job.pk)
    logger.info("import job %s %s in %.1f s", job.pk, fields["status"], time.monotonic() - started)
    job.refresh_from_db()
    return job
