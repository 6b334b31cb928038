"""Large files import as a Celery task with progress on an ImportJob row.

    if should_import_async(upload):
        job = start_import_job(project, upload, "csv", mapping, request.user)

The upload is streamed to settings.VIGIA_UPLOAD_DIR, the ImportJob row is created and the task
(`vigia.import_file`) is enqueued once the surrounding transaction commits. The task runs
`run_import_job`, which reports processed bytes and rows while it reads and finally sets the
status, counts and errors.
"""
from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from annotator.importers.errors import ImportFailed
from annotator.importers.service import import_file
from annotator.models import ImportJob, ImportStatus, Project

logger = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def should_import_async(uploaded_file: Any) -> bool:
    """True when the upload is larger than settings.VIGIA_IMPORT_ASYNC_BYTES."""
    return (getattr(uploaded_file, "size", 0) or 0) > settings.VIGIA_IMPORT_ASYNC_BYTES


def start_import_job(
    project: Project, uploaded_file: Any, fmt: str, mapping: dict[str, Any] | None, user: Any
) -> ImportJob:
    """Save the upload to disk (chunk by chunk), create the job, enqueue the task on commit."""
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
    )
    from tasks.imports import import_file_task

    transaction.on_commit(lambda: import_file_task.delay(job.pk))
    return job


def _progress_reporter(job_id: int) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """Progress goes through a second connection: the import's own transaction is not
    visible until it commits. SQLite allows one writer at a time, so there the progress is
    only written when the job ends."""
    if connection.vendor != "postgresql":
        return (lambda processed, rows: None), (lambda: None)
    side = connections.create_connection(DEFAULT_DB_ALIAS)

    def report(processed: int, rows: int) -> None:
        with side.cursor() as cursor:
            cursor.execute(
                "UPDATE annotator_importjob SET processed_bytes = %s, rows_seen = %s WHERE id = %s",
                [processed, rows, job_id],
            )

    return report, side.close


def run_import_job(job_id: int) -> ImportJob | None:
    """Run one queued job (the body of the Celery task). A job that already finished is left
    alone, so a redelivered message does no harm."""
    job = ImportJob.objects.filter(pk=job_id).select_related("project").first()
    if job is None:
        logger.warning("import job %s no longer exists", job_id)
        return None
    if job.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED):
        return job
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
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
            user=job.created_by, progress=report,
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
            errors=[{"line": None, "message": f"internal error: {type(exc).__name__}: {exc}"}],
        )
        close()
        raise
    else:
        fields = {
            "status": ImportStatus.SUCCEEDED,
            "imported": result.imported,
            "duplicates": result.duplicates,
            "processed_bytes": job.total_bytes,
            "rows_seen": seen["rows"],
            "errors": [],
        }
    finally:
        close()
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now(), **fields)
    Path(job.path).unlink(missing_ok=True)
    logger.info("import job %s %s in %.1f s", job.pk, fields["status"], time.monotonic() - started)
    job.refresh_from_db()
    return job
