"""Whole-project prediction split into chunks that run as separate Celery tasks, so N workers
(on N machines, CPU queue or the GPU queue) share one project.

- `start_prediction_job` cuts the examples that the version has not predicted yet into id
  ranges of `chunk_size` (one windowed query, no id list in Python) and enqueues one
  `vigia.predict_chunk` task per chunk once the transaction commits.
- `predict_chunk` predicts one range. Its predictions, the chunk's `done` mark and the job's
  counters commit in one transaction, so a worker killed mid-chunk leaves nothing of it and a
  finished chunk is never redone (a redelivered or re-enqueued task sees `done` and returns).
- `cancel_prediction_job` stops chunks that have not started; `resume_prediction_job`
  re-enqueues every chunk that is not done (after a cancel or a lost worker).

Storage: a Prediction row holds the scores and labels as jsonb; see docs/benchmarks.md for bytes per row.
A chunk's rows go in set-based (`write_predictions`: COPY + one INSERT), and the prevalence
index's daily counts are updated by triggers in that statement; which (label, day) counts the
chunk changed is `index_delta` of its rows, handed to `index_updated` once the chunk commits.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from annotator.models import Example, Project
from config.enqueue import enqueue_on_commit
from config.events import INDEX_UPDATED, PREDICTION_JOB_FINISHED, emit
from models_zoo.models import (
    ChunkState,
    ModelVersion,
    PredictionChunk,
    PredictionJob,
    PredictionJobState,
)
from models_zoo.prevalence import index_delta
from models_zoo.services.cold_start import transfer_version_id
from models_zoo.services.embedding_reuse import predict_in_batches
from models_zoo.services.items import item_for_example
from models_zoo.services.prediction_rows import write_predictions
from models_zoo.services.prevalence import index_updated
from models_zoo.services.queue_scores import AL_STRATEGIES, request_rescore, rescore_if_current
from models_zoo.services.queues import queue_for
from models_zoo.serving import ModelCache, get_model_cache, version_ref

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 2048
MAX_CHUNK_SIZE = 100_000


class PredictionJobError(ValueError):
    def __init__(self, message: str, field: str = "body", conflict: bool = False) -> None:
        self.message, self.field, self.conflict = message, field, conflict
        super().__init__(message)


def _ranges(project_id: int, version_id: int, chunk_size: int) -> list[tuple[int, int, int]]:
    """(first_id, last_id, count) of consecutive runs of `chunk_size` unpredicted examples."""
    sql = (
        "SELECT min(id), max(id), count(*) FROM ("
        "  SELECT e.id, (row_number() OVER (ORDER BY e.id) - 1) / %s AS c"
        "  FROM annotator_example e WHERE e.project_id = %s AND NOT EXISTS ("
        "    SELECT 1 FROM models_zoo_prediction p"
        "    WHERE p.example_id = e.id AND p.model_version_id = %s)"
        ") t GROUP BY c ORDER BY c"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [chunk_size, project_id, version_id])
        return [(int(a), int(b), int(n)) for a, b, n in cur.fetchall()]


def _queue_for(version: ModelVersion) -> str:
    return queue_for(version.backend)


@transaction.atomic
def start_prediction_job(
    project: Project, version_id: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> PredictionJob:
    """A job over every example the version (default: the current one) has not predicted.
    The version is one of the project's, or the project's transfer model version (issue 18:
    another project's model whose predictions drive the queue until this one has its own)."""
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise PredictionJobError(f"chunk_size must be between 1 and {MAX_CHUNK_SIZE}", "chunk_size")
    versions = ModelVersion.objects.filter(project=project)
    if version_id and version_id == project.transfer_model_version_id:
        versions = ModelVersion.objects.filter(pk=version_id)
    version = (
        versions.filter(pk=version_id).first()
        if version_id
        else versions.filter(is_current=True).first()
    )
    if version is None:
        if version_id:
            raise PredictionJobError(
                f"model version {version_id} is neither a version of this project nor its "
                "transfer model version", "model_version"
            )
        raise PredictionJobError(
            "the project has no current model version", "model_version", conflict=True
        )
    ranges = _ranges(project.pk, version.pk, chunk_size)
    job = PredictionJob.objects.create(
        project=project,
        model_version=version,
        chunk_size=chunk_size,
        total_chunks=len(ranges),
        examples=sum(n for _, _, n in ranges),
        queue=_queue_for(version),
        state=PredictionJobState.RUNNING if ranges else PredictionJobState.SUCCEEDED,
        finished_at=None if ranges else timezone.now(),
    )
    PredictionChunk.objects.bulk_create(
        PredictionChunk(job=job, index=i, first_id=a, last_id=b, examples=n)
        for i, (a, b, n) in enumerate(ranges)
    )
    _enqueue(job, list(job.chunks.values_list("id", flat=True)))
    if not ranges:
        announce_finished(job.pk)
    if not ranges and version.is_current:
        # Nothing left to predict (e.g. an older version promoted again): the queue's scores
        # still have to follow the current version (issue 9), in the background.

        if project.queue_strategy in AL_STRATEGIES:
            request_rescore(project)
    return job


def announce_finished(job_id: int) -> None:
    """`prediction_job.finished`, then `index.updated` with the days whose counts the job
    changed (computed only when a receiver wants it; config.events)."""
    job = PredictionJob.objects.filter(pk=job_id).values("project_id", "model_version_id", "predicted").first()
    if job is None:
        return
    data = {"prediction_job": job_id, "model_version": job["model_version_id"],
            "state": PredictionJobState.SUCCEEDED, "predicted": job["predicted"]}
    emit(PREDICTION_JOB_FINISHED, job["project_id"], data)
    version_id = job["model_version_id"]

    def index_updated() -> dict[str, Any] | None:
        days = changed_days(job_id)
        return {"prediction_job": job_id, "model_version": version_id, "days": days} if days else None

    emit(INDEX_UPDATED, job["project_id"], index_updated)


def changed_days(job_id: int) -> list[str]:
    """The days (UTC, ISO dates) whose index counts prediction job `job_id` changed: the
    posting days of the examples it predicted. One query over the job's id ranges. The one
    place to point at the daily aggregate once it records which days a job touched."""
    sql = (
        "SELECT DISTINCT (e.posted_at AT TIME ZONE 'UTC')::date AS day "
        "FROM models_zoo_predictionchunk c "
        "JOIN models_zoo_predictionjob j ON j.id = c.job_id "
        "JOIN annotator_example e ON e.project_id = j.project_id "
        "  AND e.id BETWEEN c.first_id AND c.last_id "
        "JOIN models_zoo_prediction p ON p.example_id = e.id "
        "  AND p.model_version_id = j.model_version_id AND p.created_at >= j.created_at "
        "WHERE c.job_id = %s AND c.predicted > 0 AND e.posted_at IS NOT NULL "
        "ORDER BY day"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [job_id])
        return [row[0].isoformat() for row in cur.fetchall()]


PREDICT_CHUNK_TASK = "vigia.predict_chunk"


def _enqueue(job: PredictionJob, chunk_ids: list[int]) -> None:
    """Send one `vigia.predict_chunk` per chunk once the job commits. A broker that refuses
    marks the job failed with the reason (resume sends the chunks again) and raises
    BrokerUnavailable (503), instead of leaving the job `running` for ever."""
    job_id = job.pk

    def refused(reason: str) -> None:
        PredictionJob.objects.filter(pk=job_id).exclude(state=PredictionJobState.SUCCEEDED).update(
            state=PredictionJobState.FAILED, finished_at=timezone.now(),
            error=f"could not enqueue the prediction chunks: {reason}",
        )

    if chunk_ids:
        enqueue_on_commit(PREDICT_CHUNK_TASK, queue=job.queue or None,
                          many=[[chunk_id] for chunk_id in chunk_ids], on_refused=refused)


def predict_chunk(chunk_id: int, cache: ModelCache | None = None) -> int:
    """Predict one chunk; returns the predictions written (0 when done already or cancelled)."""
    with transaction.atomic():
        chunk = (
            PredictionChunk.objects.select_for_update(skip_locked=False)
            .select_related("job")
            .filter(pk=chunk_id)
            .first()
        )
        if chunk is None or chunk.state == ChunkState.DONE or chunk.job.cancel_requested:
            return 0
        chunk.state = ChunkState.RUNNING
        chunk.attempts += 1
        chunk.started_at = timezone.now()
        chunk.worker = f"{socket.gethostname()}:{os.getpid()}"
        chunk.save(update_fields=["state", "attempts", "started_at", "worker"])
    job = chunk.job
    project = Project.objects.get(pk=job.project_id)
    loaded = (cache or get_model_cache()).get(version_ref(job.model_version_id))
    examples = list(
        Example.objects.filter(
            project_id=job.project_id, id__gte=chunk.first_id, id__lte=chunk.last_id
        )
        .exclude(predictions__model_version_id=job.model_version_id)
        .order_by("id")
    )
    # Model calls in batches the encoder handles well (embedding_head: the stored vectors of
    # the whole chunk); one transaction for the whole chunk.
    ids = [e.id for e in examples]
    predictions = predict_in_batches(loaded.backend, project, ids,
                                     [item_for_example(e, project) for e in examples])
    with transaction.atomic():
        locked = PredictionChunk.objects.select_for_update().get(pk=chunk.pk)
        if locked.state == ChunkState.DONE:  # a concurrent redelivery finished it first
            return 0
        # Set-based (COPY + one INSERT); the index's daily counts follow in the same statement
        # (database triggers), so they commit or vanish with the chunk.
        written = write_predictions(job.model_version_id, ids, predictions)
        PredictionChunk.objects.filter(pk=chunk.pk).update(
            state=ChunkState.DONE, predicted=written, finished_at=timezone.now()
        )
        PredictionJob.objects.filter(pk=job.pk).update(
            done_chunks=F("done_chunks") + 1, predicted=F("predicted") + written
        )
        finished = PredictionJob.objects.filter(
            pk=job.pk, done_chunks=F("total_chunks"), state=PredictionJobState.RUNNING
        ).update(state=PredictionJobState.SUCCEEDED, finished_at=timezone.now())
        if finished:
            announce_finished(job.pk)
        delta = index_delta(
            (e.posted_at, p.labels) for e, p in zip(examples, predictions, strict=True)
        )
        transaction.on_commit(lambda: index_updated(job.project_id, job.model_version_id, delta))
    logger.info("prediction job %s chunk %s: %s predictions", job.pk, chunk.index, written)
    if finished:
        # The last chunk: the active-learning queue orders by the current version's
        # predictions, so rescore it now that they are all stored (issue 9).

        rescore_if_current(job.project_id, job.model_version_id)
    return written


def cancel_prediction_job(job: PredictionJob) -> PredictionJob:
    """Chunks not started yet stop; chunks running finish (their work is kept)."""
    if job.state == PredictionJobState.RUNNING:
        PredictionJob.objects.filter(pk=job.pk).update(
            cancel_requested=True, state=PredictionJobState.CANCELLED, finished_at=timezone.now()
        )
    job.refresh_from_db()
    return job


@transaction.atomic
def resume_prediction_job(job: PredictionJob) -> PredictionJob:
    """Re-enqueue every chunk that is not done (done chunks are never redone)."""
    job = PredictionJob.objects.select_for_update().get(pk=job.pk)
    if job.state == PredictionJobState.SUCCEEDED:
        raise PredictionJobError("the job is complete; nothing to resume", "job", conflict=True)
    todo = list(job.chunks.exclude(state=ChunkState.DONE).values_list("id", flat=True))
    job.cancel_requested = False
    # Nothing left to send (every chunk is done): the job is complete, never "running" for ever.
    job.state = PredictionJobState.RUNNING if todo else PredictionJobState.SUCCEEDED
    job.finished_at = None if todo else timezone.now()
    job.error = ""
    job.save(update_fields=["cancel_requested", "state", "finished_at", "error"])
    PredictionChunk.objects.filter(id__in=todo).update(state=ChunkState.PENDING)
    _enqueue(job, todo)
    return job


def job_body(job: PredictionJob) -> dict[str, Any]:
    counts = dict(job.chunks.order_by().values_list("state").annotate(n=Count("id")))
    return {
        "id": job.pk,
        "project": job.project_id,
        "model_version": job.model_version_id,
        "state": job.state,
        "chunk_size": job.chunk_size,
        "chunks": {
            "total": job.total_chunks,
            "done": job.done_chunks,
            "running": counts.get(ChunkState.RUNNING, 0),
            "pending": counts.get(ChunkState.PENDING, 0),
        },
        "examples": job.examples,
        "predicted": job.predicted,
        "progress": round(job.progress, 4),
        "queue": job.queue,
        "error": job.error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


def predict_with_transfer(project: Project) -> None:
    """Predict the project's examples with its transfer version, as a chunked prediction job
    (its last chunk rescores the queue), unless the project has a model of its own."""
    if transfer_version_id(project) is None:
        return
    start_prediction_job(project, project.transfer_model_version_id)
