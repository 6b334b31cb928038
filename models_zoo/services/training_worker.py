"""The worker side of a training run (the Celery task `vigia.train_model` calls run_training):
claim the queued run, fit the backend with progress and a heartbeat, store the artifact, record
the version (and auto-promote if the project asks), or fail the run with a public reason. The
request side (validation, start, cancel, reaping) is models_zoo.services.training."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from config.failures import public_reason
from models_zoo import registry
from models_zoo.backends.base import Backend, ProgressEvent, TrainingCancelled
from models_zoo.metric_names import metric_title
from models_zoo.models import ModelVersion, RunState, TrainingRun
from models_zoo.services.artifact_storage import artifact_key, delete_artifact, save_artifact
from models_zoo.services.datasets import (
    build_dataset,
)
from models_zoo.services.embedding_reuse import fit_with_store
from models_zoo.services.learning_curve import record_stop_set
from models_zoo.services.versions import maybe_auto_promote
from models_zoo.splits import describe_split

logger = logging.getLogger(__name__)

# Backends that fine-tune transformers: they go to settings.VIGIA_GPU_QUEUE when it is set.
from models_zoo.services.training import (
    PROGRESS_INTERVAL,
    announce_finished,
    append_log,
    reap_stale_runs,
)


class _Heartbeat(threading.Thread):
    """Beats while the worker is alive, even through long steps without progress events, so
    only a dead worker leaves a stale heartbeat."""

    def __init__(self, run_id: int, interval: float) -> None:
        super().__init__(daemon=True, name=f"heartbeat-run-{run_id}")
        self.run_id = run_id
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                TrainingRun.objects.filter(pk=self.run_id, state=RunState.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


class _ProgressWriter:
    """The progress callback: writes progress/epoch/loss/ETA/heartbeat at most once per
    PROGRESS_INTERVAL (the latest MAX_BUFFERED distinct messages are flushed with it) and raises
    TrainingCancelled once cancel is requested."""

    MAX_BUFFERED = 20

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.started = time.monotonic()
        self.last_write = 0.0
        self.pending: list[str] = []
        self.last_message = ""

    def __call__(self, event: ProgressEvent) -> None:
        if event.message and event.message != self.last_message:
            self.last_message = event.message
            self.pending = [*self.pending, event.message][-self.MAX_BUFFERED:]
        now = time.monotonic()
        done = event.total_steps > 0 and event.step >= event.total_steps
        if now - self.last_write < PROGRESS_INTERVAL and not done:
            return
        self.last_write = now
        fraction = event.fraction
        elapsed = now - self.started
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        fields: dict[str, Any] = {"progress": fraction, "eta_seconds": eta, "heartbeat_at": timezone.now()}
        if event.epoch is not None:
            fields["epoch"] = event.epoch
        if event.loss is not None:
            fields["loss"] = float(event.loss)
        TrainingRun.objects.filter(pk=self.run_id).update(**fields)
        for message in self.pending:
            append_log(self.run_id, message)
        self.pending = []
        if TrainingRun.objects.filter(pk=self.run_id, cancel_requested=True).exists():
            raise TrainingCancelled(f"run {self.run_id} cancelled")


def _claim(run_id: int) -> TrainingRun | None:
    """Move a queued run to running; None when it is not queued (already trained, cancelled,
    reaped, or a redelivered message): the idempotence guard."""
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.state != RunState.QUEUED:
            return None
        now = timezone.now()
        run.state = RunState.RUNNING
        run.started_at = now
        run.heartbeat_at = now
        run.save(update_fields=["state", "started_at", "heartbeat_at"])
    append_log(run_id, "started")
    return run


def _save_artifact(backend: Backend, run: TrainingRun) -> tuple[str, str]:
    """Upload the fitted backend whole under the run's key; (key, checksum)."""
    key = artifact_key(run.project_id, run.pk)
    return key, save_artifact(backend, key)


def _finish(run_id: int, state: str, error: str = "", line: str = "") -> None:
    updated = TrainingRun.objects.filter(pk=run_id, state=RunState.RUNNING).update(
        state=state, error=error, finished_at=timezone.now(), eta_seconds=None
    )
    if line:
        append_log(run_id, line)
    if updated:
        announce_finished(run_id, state)


def _error_summary(exc: BaseException) -> str:
    """The reason admins see on the run: no traceback, no path (the worker's log has both)."""
    return public_reason(exc)


def _record_version(run_id: int, backend: Backend, report: Any, snapshot: dict[str, Any],
                    artifact: tuple[str, str]) -> ModelVersion | None:
    """One transaction: the ModelVersion, the run's success, and auto-promotion. None when the
    run stopped being `running` meanwhile (reaped): it is not resurrected."""
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run_id)
        if run.state != RunState.RUNNING:
            return None
        metrics = dict(report.metrics or backend.metrics or {})
        version = ModelVersion.objects.create(
            project_id=run.project_id, run=run, backend=run.backend,
            config=backend.config.model_dump(mode="json"),
            artifact_dir=artifact[0], artifact_checksum=artifact[1],
            labels=list(backend.labels), thresholds=dict(report.thresholds or backend.thresholds),
            metrics={**metrics, "best_epoch": report.best_epoch}, data_snapshot=snapshot,
        )
        run.state = RunState.SUCCEEDED
        run.finished_at = timezone.now()
        run.progress = 1.0
        run.eta_seconds = None
        run.save(update_fields=["state", "finished_at", "progress", "eta_seconds"])
        append_log(run_id, f"succeeded: model version {version.pk}, {_headline(metrics, backend)}")
        announce_finished(run_id, RunState.SUCCEEDED, version.pk)
        if maybe_auto_promote(version):
            append_log(run_id, f"auto-promoted model version {version.pk}")
        elif version.promotion_note:
            append_log(run_id, version.promotion_note)
    return version


def _headline(metrics: dict[str, Any], backend: Backend) -> str:
    """The run log's summary figure, named by what it is and rounded like the pages show it."""
    value = metrics.get("f1_macro")
    title = metric_title("f1_macro", backend.task_type, backend.labels)
    return f"validation {title} {value:.3f}" if isinstance(value, (int, float)) else f"no validation {title}"


def _train(run: TrainingRun) -> ModelVersion | None:
    project = run.project
    cls = registry.get_backend(run.backend)
    seed = int(run.config.get("seed", run.pk))
    dataset = build_dataset(project, seed=seed, split=run.config.get("validation_split"))
    counts = dataset.snapshot["counts"]
    excluded = f", {counts['excluded']} without a usable date left out" if counts.get("excluded") else ""
    append_log(run.pk, f"data: {counts['train']} train / {counts['validation']} validation examples "
                       f"({describe_split(dataset.snapshot['split'])}{excluded}), seed {seed}")
    labels = list(project.labels.values_list("name", flat=True))
    backend = cls(labels, project.task_type, run.config)
    report = fit_with_store(backend, project, dataset, _ProgressWriter(run.pk),
                            log=lambda line: append_log(run.pk, line))
    TrainingRun.objects.filter(pk=run.pk).update(progress=1.0, heartbeat_at=timezone.now())
    artifact = _save_artifact(backend, run)
    try:
        version = _record_version(run.pk, backend, report, dataset.snapshot, artifact)
    except BaseException:
        delete_artifact(artifact[0])  # no version points at it
        raise
    if version is None:
        delete_artifact(artifact[0])
    else:
        # The stopping hint compares consecutive versions on a fixed stop set (issue 9).

        record_stop_set(version, backend)
    return version


def run_training(run_id: int) -> ModelVersion | None:
    """Train a queued run to completion; returns the new ModelVersion (None when the run was not
    queued, was cancelled, or failed). Never raises for training errors: they land on the run,
    and the current model stays as it was."""
    reap_stale_runs()
    run = _claim(run_id)
    if run is None:
        logger.info("training run %s is not queued; not training it again", run_id)
        return None
    interval = max(0.5, min(10.0, settings.VIGIA_RUN_STALE_SECONDS / 4))
    heartbeat = _Heartbeat(run_id, interval)
    heartbeat.start()
    try:
        return _train(run)
    except TrainingCancelled:
        _finish(run_id, RunState.CANCELLED, line="cancelled")
    except Exception as exc:  # every failure must land on the run row
        logger.exception("training run %s failed", run_id)
        reason = _error_summary(exc)
        _finish(run_id, RunState.FAILED, error=reason, line=f"failed: {reason}")
    finally:
        heartbeat.stop()
    return None


def wait_for_run(run_id: int, timeout: float, poll: float = 0.5) -> TrainingRun:
    """Poll a run until it finishes or `timeout` seconds pass (CLI --wait, tests)."""
    deadline = time.monotonic() + timeout
    while True:
        close_old_connections()
        run = TrainingRun.objects.get(pk=run_id)
        if run.is_finished or time.monotonic() > deadline:
            return run
        time.sleep(poll)
