"""Batch scoring: a file of texts scored by one model version in chunk tasks shared by every
worker, like predict-all (models_zoo.services.chunked_prediction), but the texts are never
stored as examples: they travel in chunk files under VIGIA_SCORING_DIR/<job>/.

- `start_scoring_job` checks the request, splits the upload into chunk files and enqueues one
  `vigia.score_chunk` task per chunk once the job's rows commit.
- `score_chunk` scores one chunk and renames its results file into place; then its `done` mark
  and the job's counters commit together. A redelivered task for a done chunk returns at once;
  a worker killed mid-chunk leaves the chunk `running` (its results never half-written), and
  `resume_scoring_job` sends every chunk that is not done again.
- The task that finishes the last chunk joins the chunk results into one JSONL or CSV file,
  removes the texts, marks the job succeeded and emits `prediction_job.finished`.
- Results expire VIGIA_SCORING_RESULT_TTL_SECONDS after the job finished: `expire_scoring_results`
  removes them whenever jobs are listed, read or started, and when a worker starts.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotator.models import Project
from config.enqueue import enqueue_on_commit
from config.events import PREDICTION_JOB_FINISHED, emit
from integrations.models.scoring import ScoringChunk, ScoringJob, ScoringState
from integrations.scoring.inputs import detect_format, split_into_chunks
from models_zoo.models import ModelVersion

logger = logging.getLogger(__name__)
OUTPUT_FORMATS = ("jsonl", "csv")
MAX_CHUNK_SIZE = 100_000
MODEL_BATCH = 256


class ScoringRequestError(ValueError):
    def __init__(self, message: str, field: str, status: int = 400) -> None:
        self.message, self.field, self.status = message, field, status
        super().__init__(f"{field}: {message}")


def job_dir(job_id: int) -> Path:
    return Path(settings.VIGIA_SCORING_DIR) / str(job_id)


def result_path(job: ScoringJob) -> Path:
    return job_dir(job.pk) / f"results.{job.output_format}"


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
    from models_zoo.services.training import queue_for

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
        sizes = split_into_chunks(upload, input_format, job_dir(job.pk) / "input", chunk_size)
    except BaseException:
        job.delete()
        shutil.rmtree(job_dir(job.pk), ignore_errors=True)
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
    shutil.rmtree(job_dir(job_id), ignore_errors=True)
    if updated:
        job = ScoringJob.objects.get(pk=job_id)
        emit(PREDICTION_JOB_FINISHED, job.project_id, _event_data(job))


def _event_data(job: ScoringJob) -> dict[str, Any]:
    return {"scoring_job": job.pk, "model_version": job.model_version_id, "state": job.state,
            "rows": job.rows, "scored": job.scored}


def _score_rows(job: ScoringJob, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from models_zoo.backends.base import Item
    from models_zoo.services.prediction import model_text
    from models_zoo.serving import get_model_cache, version_ref

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
    source = job_dir(job.pk) / "input" / f"{chunk.index}.jsonl"
    try:
        with source.open(encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh]
        results = _score_rows(job, rows)
    except Exception as exc:  # a missing model or file fails the job, saying why, not silently
        logger.exception("scoring job %s chunk %s failed", job.pk, chunk.index)
        fail_scoring_job(job.pk, f"chunk {chunk.index}: {type(exc).__name__}: {exc}")
        return 0
    out_dir = job_dir(job.pk) / "output"
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f"{chunk.index}.jsonl.{os.getpid()}.tmp"
    with tmp.open("w", encoding="utf-8") as fh:
        for result in results:
            fh.write(json.dumps(result, ensure_ascii=False) + "\n")
    tmp.replace(out_dir / f"{chunk.index}.jsonl")  # whole or absent, never half-written
    with transaction.atomic():
        locked = ScoringChunk.objects.select_for_update().get(pk=chunk.pk)
        if locked.state == "done":  # a concurrent redelivery finished it first
            return 0
        ScoringChunk.objects.filter(pk=chunk.pk).update(state="done", finished_at=timezone.now())
        ScoringJob.objects.filter(pk=job.pk).update(
            done_chunks=F("done_chunks") + 1, scored=F("scored") + len(results)
        )
        last = ScoringJob.objects.filter(pk=job.pk, done_chunks=F("total_chunks")).exists()
    logger.info("scoring job %s chunk %s: %s rows", job.pk, chunk.index, len(results))
    if last:
        finalize_scoring_job(job.pk)
    return len(results)


def _write_results(job: ScoringJob, labels: list[str], target: Path) -> None:
    tmp = target.with_name(target.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as out:
        writer = None
        if job.output_format == "csv":
            writer = csv.writer(out)
            writer.writerow(["row", "id", "model_version", "labels", *[f"score_{name}" for name in labels]])
        for index in range(job.total_chunks):
            with (job_dir(job.pk) / "output" / f"{index}.jsonl").open(encoding="utf-8") as part:
                if writer is None:
                    shutil.copyfileobj(part, out)
                    continue
                for line in part:
                    r = json.loads(line)
                    writer.writerow([r["row"], "" if r["id"] is None else r["id"], r["model_version"],
                                     "|".join(r["labels"]), *[r["scores"].get(name, "") for name in labels]])
    tmp.replace(target)


def finalize_scoring_job(job_id: int) -> bool:
    """Join the chunk results into the job's results file once every chunk is done (idempotent:
    a second call, or one for an unfinished job, does nothing). True when it finished the job."""
    job = ScoringJob.objects.select_related("model_version").get(pk=job_id)
    if job.state != ScoringState.RUNNING or job.done_chunks < job.total_chunks:
        return False
    target = result_path(job)
    _write_results(job, list(job.model_version.labels or []), target)
    now = timezone.now()
    with transaction.atomic():
        finished = ScoringJob.objects.filter(pk=job.pk, state=ScoringState.RUNNING).update(
            state=ScoringState.SUCCEEDED, finished_at=now, result_bytes=target.stat().st_size,
            expires_at=now + timedelta(seconds=settings.VIGIA_SCORING_RESULT_TTL_SECONDS),
        )
        if finished:
            job.refresh_from_db()
            emit(PREDICTION_JOB_FINISHED, job.project_id, _event_data(job))
    if finished:
        for sub in ("input", "output"):  # the texts are not kept once the results exist
            shutil.rmtree(job_dir(job.pk) / sub, ignore_errors=True)
    return bool(finished)


def cancel_scoring_job(job: ScoringJob) -> ScoringJob:
    """Chunks not started yet stop; the texts and partial results are removed."""
    if ScoringJob.objects.filter(pk=job.pk, state=ScoringState.RUNNING).update(
        state=ScoringState.CANCELLED, cancel_requested=True, finished_at=timezone.now()
    ):
        shutil.rmtree(job_dir(job.pk), ignore_errors=True)
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
    """Remove the results of jobs past their expiry; returns how many expired."""
    due = list(ScoringJob.objects.filter(state=ScoringState.SUCCEEDED, expires_at__lte=timezone.now())
               .values_list("pk", flat=True))
    for pk in due:
        if ScoringJob.objects.filter(pk=pk, state=ScoringState.SUCCEEDED).update(state=ScoringState.EXPIRED):
            shutil.rmtree(job_dir(pk), ignore_errors=True)
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


def open_results(job: ScoringJob) -> tuple[io.BufferedReader, str]:
    """The results file and its content type; FileNotFoundError once expired or not ready."""
    if job.state != ScoringState.SUCCEEDED:
        raise FileNotFoundError(f"scoring job {job.pk} is {job.state}: no results")
    content_type = "text/csv" if job.output_format == "csv" else "application/x-ndjson"
    return result_path(job).open("rb"), content_type
