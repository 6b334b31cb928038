"""Batch scoring: a file of texts scored by one model version in chunk tasks shared by every
worker, like predict-all (models_zoo.services.chunked_prediction), but the texts are never
stored as examples: they travel as chunk objects in the shared store under `scoring/<job>/`
(integrations.scoring.files), so the web host and the workers may be different machines.

- `start_scoring_job` checks the request, stores the upload's chunks and enqueues one
  `vigia.score_chunk` task per chunk once the job's rows commit.
- `score_chunk` fetches one chunk from the store, scores it and uploads its output whole; then
  its `done` mark and the job's counters commit together. A redelivered task for a done chunk
  returns at once; a worker killed mid-chunk leaves the chunk `running` (its output absent or
  whole, never half-written), and `resume_scoring_job` sends every chunk that is not done again.
- The task that finishes the last chunk joins the outputs into one JSONL or CSV object, removes
  the texts and outputs, marks the job succeeded (with the object's sha256) and emits
  `prediction_job.finished`.
- Results expire VIGIA_SCORING_RESULT_TTL_SECONDS after the job finished: `expire_scoring_results`
  removes them whenever jobs are listed, read or started, and when a worker starts. Expiry,
  cancel, failure and deleting the job (with its project or version) delete its prefix.
"""
from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotator.models import Project
from config.enqueue import enqueue_on_commit
from config.events import PREDICTION_JOB_FINISHED, emit
from config.storage import StorageError
from integrations.models.scoring import ScoringChunk, ScoringJob, ScoringState
from integrations.scoring import files
from integrations.scoring.inputs import detect_format
from models_zoo.backends.base import Item
from models_zoo.models import ModelVersion
from models_zoo.services.items import model_text
from models_zoo.services.queues import queue_for
from models_zoo.serving import get_model_cache, version_ref

logger = logging.getLogger(__name__)
OUTPUT_FORMATS = ("jsonl", "csv")
MAX_CHUNK_SIZE = 100_000
MODEL_BATCH = 256


class ScoringRequestError(ValueError):
    def __init__(self, message: str, field: str, status: int = 400) -> None:
        self.message, self.field, self.status = message, field, status
        super().__init__(f"{field}: {message}")


def _remove_files(job_id: int, what: str = "") -> None:
    """Delete the job's objects (or only its chunk files); a store that refuses is logged, not
    raised: the job's state has committed already, and the objects are unreachable from now."""
    try:
        if what == "chunks":
            files.drop_chunk_files(job_id)
        else:
            files.delete_job_files(job_id)
    except StorageError:
        logger.exception("removing the files of scoring job %s from the store failed", job_id)


def _version_for(project: Project, raw: Any) -> ModelVersion:
    versions = ModelVersion.objects.filter(project=project)
    if raw in (None, ""):
        version = versions.filter(is_current=True).first()
        if version is None:
            raise ScoringRequestError("the project has no current model version; promote one or "
                                      "name one in model_version", "model_version", status=409)
        return version
    try:
        version_id = int(raw)
    except (TypeError, ValueError):
        raise ScoringRequestError(f"must be a model version id, got {raw!r}", "model_version") from None
    version = versions.filter(pk=version_id).first() if 0 < version_id < 2**63 else None
    if version is None:
        raise ScoringRequestError(f"model version {version_id} is not a version of this project",
                                  "model_version", status=404)
    return version


def start_scoring_job(
    project: Project, upload: Any, *, fmt: str | None = None, output_format: str | None = None,
    model_version: Any = None, chunk_size: Any = None, user: Any = None,
) -> ScoringJob:
    """Check, split and enqueue a scoring job. Raises ScoringRequestError (a field) or
    ScoringInputError (bad rows, by line); config.enqueue.BrokerUnavailable when the queue is
    down (the job is then marked failed and its files removed)."""
    expire_scoring_results()
    if upload is None:
        raise ScoringRequestError("no file uploaded (send it as the multipart field 'file')", "file")
    size = getattr(upload, "size", 0) or 0
    if size > settings.VIGIA_SCORING_MAX_BYTES:
        raise ScoringRequestError(f"the file is {size} bytes; the limit is "
                                  f"{settings.VIGIA_SCORING_MAX_BYTES} (VIGIA_SCORING_MAX_BYTES)", "file", status=413)
    output_format = (output_format or "jsonl").strip().lower()
    if output_format not in OUTPUT_FORMATS:
        raise ScoringRequestError(f"{output_format!r}; use jsonl or csv", "output_format")
    if chunk_size in (None, ""):
        chunk_size = settings.VIGIA_SCORING_CHUNK_SIZE
    try:
        chunk_size = int(chunk_size)
    except (TypeError, ValueError):
        raise ScoringRequestError(f"must be an integer, got {chunk_size!r}", "chunk_size") from None
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ScoringRequestError(f"must be between 1 and {MAX_CHUNK_SIZE}", "chunk_size")
    version = _version_for(project, model_version)
    input_format = detect_format(fmt, getattr(upload, "name", "") or "")
    job = ScoringJob.objects.create(
        project=project, model_version=version, created_by=user if getattr(user, "pk", None) else None,
        original_name=(getattr(upload, "name", "") or "")[:255], input_format=input_format,
        output_format=output_format, chunk_size=chunk_size, queue=queue_for(version.backend),
    )
    try:
        sizes = files.store_inputs(job.pk, upload, input_format, chunk_size)
    except (StorageError, OSError) as exc:  # S3 refused, or a path store's disk is full or gone
        job.delete()
        logger.exception("scoring job %s: the store did not take the chunks", job.pk)
        raise ScoringRequestError(f"the shared store did not take the chunks: {type(exc).__name__}: "
                                  f"{exc}", "storage", status=503) from exc
    except BaseException:
        job.delete()
        raise
    with transaction.atomic():
        ScoringChunk.objects.bulk_create(
            ScoringChunk(job=job, index=i, first_row=sum(sizes[:i]), rows=n) for i, n in enumerate(sizes)
        )
        ScoringJob.objects.filter(pk=job.pk).update(rows=sum(sizes), total_chunks=len(sizes))
        _enqueue_chunks(job, list(job.chunks.values_list("id", flat=True)))
    job.refresh_from_db()
    logger.info("scoring job %s: %s rows in %s chunks with version %s", job.pk, job.rows,
                job.total_chunks, version.pk)
    return job


def _enqueue_chunks(job: ScoringJob, chunk_ids: list[int]) -> None:
    def refused(reason: str) -> None:
        fail_scoring_job(job.pk, f"the task queue is unavailable: {reason}")

    for chunk_id in chunk_ids:
        enqueue_on_commit("vigia.score_chunk", [chunk_id], queue=job.queue or None, on_refused=refused)


def fail_scoring_job(job_id: int, message: str) -> None:
    updated = ScoringJob.objects.filter(pk=job_id, state=ScoringState.RUNNING).update(
        state=ScoringState.FAILED, error=message[:4000], finished_at=timezone.now()
    )
    _remove_files(job_id)
    if updated:
        job = ScoringJob.objects.get(pk=job_id)
        emit(PREDICTION_JOB_FINISHED, job.project_id, _event_data(job))


def _event_data(job: ScoringJob) -> dict[str, Any]:
    return {"scoring_job": job.pk, "model_version": job.model_version_id, "state": job.state,
            "rows": job.rows, "scored": job.scored}


def _score_rows(job: ScoringJob, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    project = Project.objects.get(pk=job.project_id)
    backend = get_model_cache().get(version_ref(job.model_version_id)).backend
    items = [Item(text=model_text(project, row["text"])) for row in rows]
    out: list[dict[str, Any]] = []
    for start in range(0, len(items), MODEL_BATCH):
        predictions = backend.predict(items[start:start + MODEL_BATCH])
        for row, p in zip(rows[start:start + MODEL_BATCH], predictions, strict=True):
            result = {"row": row["row"], "id": row["id"], "model_version": job.model_version_id,
                      "scores": {k: float(v) for k, v in p.scores.items()}, "labels": list(p.labels)}
            if p.spans:
                result["spans"] = list(p.spans)
            out.append(result)
    return out


def score_chunk(chunk_id: int) -> int:
    """Score one chunk; returns the rows scored (0 when done already, or the job stopped)."""
    with transaction.atomic():
        chunk = ScoringChunk.objects.select_for_update().select_related("job").filter(pk=chunk_id).first()
        if chunk is None or chunk.state == "done" or chunk.job.state != ScoringState.RUNNING:
            return 0
        chunk.state, chunk.attempts, chunk.started_at = "running", chunk.attempts + 1, timezone.now()
        chunk.worker = f"{socket.gethostname()}:{os.getpid()}"
        chunk.save(update_fields=["state", "attempts", "started_at", "worker"])
    job = chunk.job
    try:
        rows = files.read_input(job.pk, chunk.index)
        results = _score_rows(job, rows)
        files.write_output(job.pk, chunk.index, results)  # whole or absent, never half-written
    except Exception as exc:  # a missing model, chunk or store fails the job, saying why
        logger.exception("scoring job %s chunk %s failed", job.pk, chunk.index)
        fail_scoring_job(job.pk, f"chunk {chunk.index}: {type(exc).__name__}: {exc}")
        return 0
    with transaction.atomic():
        locked = ScoringChunk.objects.select_for_update().filter(pk=chunk.pk).first()
        if locked is not None and locked.state == "done":  # a concurrent redelivery finished it first
            return 0
        running = ScoringJob.objects.filter(pk=job.pk, state=ScoringState.RUNNING).exists()
        stopped = locked is None or not running
        if not stopped:
            ScoringChunk.objects.filter(pk=chunk.pk).update(state="done", finished_at=timezone.now())
            ScoringJob.objects.filter(pk=job.pk).update(
                done_chunks=F("done_chunks") + 1, scored=F("scored") + len(results)
            )
            last = ScoringJob.objects.filter(pk=job.pk, done_chunks=F("total_chunks")).exists()
    if stopped:
        # Cancelled, failed or deleted while this chunk ran: the prefix was deleted when that
        # committed, possibly before this upload landed; the upload precedes this check, so
        # one of the two deletes removes it.
        _remove_files(job.pk)
        return 0
    logger.info("scoring job %s chunk %s: %s rows", job.pk, chunk.index, len(results))
    if last:
        finalize_scoring_job(job.pk)
    return len(results)


def finalize_scoring_job(job_id: int) -> bool:
    """Join the chunk outputs into the job's results object once every chunk is done
    (idempotent: a second call, or one for an unfinished job, does nothing; two at once write the
    same bytes). True when it finished the job. A store error is raised, the job left running:
    Resume joins again."""
    job = ScoringJob.objects.select_related("model_version").filter(pk=job_id).first()
    if job is None or job.state != ScoringState.RUNNING or job.done_chunks < job.total_chunks:
        return False
    size, sha256 = files.join_results(job.pk, job.output_format, job.total_chunks,
                                      list(job.model_version.labels or []))
    now = timezone.now()
    with transaction.atomic():
        finished = ScoringJob.objects.filter(pk=job.pk, state=ScoringState.RUNNING).update(
            state=ScoringState.SUCCEEDED, finished_at=now, result_bytes=size, result_sha256=sha256,
            expires_at=now + timedelta(seconds=settings.VIGIA_SCORING_RESULT_TTL_SECONDS),
        )
        if finished:
            job.refresh_from_db()
            emit(PREDICTION_JOB_FINISHED, job.project_id, _event_data(job))
    if finished:
        _remove_files(job.pk, "chunks")  # the texts are not kept once the results exist
    elif ScoringJob.objects.filter(pk=job.pk).values_list("state", flat=True).first() != ScoringState.SUCCEEDED:
        _remove_files(job.pk)  # cancelled or deleted meanwhile: the object belongs to no job
    return bool(finished)


def cancel_scoring_job(job: ScoringJob) -> ScoringJob:
    """Chunks not started yet stop; the texts and partial results are removed."""
    if ScoringJob.objects.filter(pk=job.pk, state=ScoringState.RUNNING).update(
        state=ScoringState.CANCELLED, cancel_requested=True, finished_at=timezone.now()
    ):
        _remove_files(job.pk)
    job.refresh_from_db()
    return job


def resume_scoring_job(job: ScoringJob) -> ScoringJob:
    """Send every chunk that is not done again (after a lost worker); done chunks are never
    redone. A job whose chunks are all done is finalised."""
    if job.state != ScoringState.RUNNING:
        raise ScoringRequestError(f"the job is {job.state}; only a running job resumes", "job", status=409)
    with transaction.atomic():
        todo = list(job.chunks.exclude(state="done").values_list("id", flat=True))
        ScoringChunk.objects.filter(id__in=todo).update(state="pending")
        _enqueue_chunks(job, todo)
    if not todo:
        finalize_scoring_job(job.pk)
    job.refresh_from_db()
    return job


def expire_scoring_results() -> int:
    """Remove the results of jobs past their expiry from the store; returns how many expired.
    Also drops this host's cached copies of results that are no longer served (expired,
    cancelled or deleted by another host, which could only clear its own cache)."""
    due = list(ScoringJob.objects.filter(state=ScoringState.SUCCEEDED, expires_at__lte=timezone.now())
               .values_list("pk", flat=True))
    for pk in due:
        if ScoringJob.objects.filter(pk=pk, state=ScoringState.SUCCEEDED).update(state=ScoringState.EXPIRED):
            _remove_files(pk)
    cached = files.cached_job_ids()
    if cached:
        served = set(ScoringJob.objects.filter(pk__in=cached, state=ScoringState.SUCCEEDED)
                     .values_list("pk", flat=True))
        files.prune_cached([pk for pk in cached if pk not in served])
    return len(due)


def job_body(job: ScoringJob, results_url: str | None = None) -> dict[str, Any]:
    running = job.chunks.filter(state="running").count() if job.state == ScoringState.RUNNING else 0
    return {
        "id": job.pk, "project": job.project_id, "model_version": job.model_version_id,
        "state": job.state, "input_format": job.input_format, "output_format": job.output_format,
        "original_name": job.original_name, "rows": job.rows, "scored": job.scored,
        "progress": round(job.progress, 4),
        "chunks": {"total": job.total_chunks, "done": job.done_chunks, "running": running,
                   "pending": job.total_chunks - job.done_chunks - running},
        "error": job.error, "created_at": job.created_at, "finished_at": job.finished_at,
        "expires_at": job.expires_at, "result_bytes": job.result_bytes,
        "results_url": results_url if job.state == ScoringState.SUCCEEDED else None,
    }


def open_results(job: ScoringJob) -> tuple[IO[bytes], str]:
    """The results object opened for reading (in place, or this host's verified cached copy of
    an S3 store) and its content type. FileNotFoundError once expired or not ready (or the
    object is gone from the store); another StorageError when the store cannot serve it."""
    if job.state != ScoringState.SUCCEEDED:
        raise FileNotFoundError(f"scoring job {job.pk} is {job.state}: no results")
    content_type = "text/csv" if job.output_format == "csv" else "application/x-ndjson"
    return files.open_results(job.pk, job.output_format, job.result_sha256), content_type
