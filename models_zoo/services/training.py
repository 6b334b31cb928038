"""Training runs: start (validate + enqueue), run (in a Celery worker or inline), cancel, reap.

A run goes queued -> running -> succeeded | failed | cancelled. The database allows one active
run per project (constraint `one_active_run_per_project`); the Celery task only carries the
run id and is idempotent: a run that is not queued any more is never trained again, which
matters because `acks_late` + `reject_on_worker_lost` may redeliver it.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from pydantic import ValidationError

from annotator.models import Project
from config.enqueue import BrokerUnavailable
from config.enqueue import enqueue as enqueue_task
from config.events import TRAINING_FINISHED, emit
from config.failures import public_reason
from models_zoo import registry
from models_zoo.backends.base import Backend, ProgressEvent, TrainingCancelled
from models_zoo.metric_names import metric_title
from models_zoo.model_roots import ModelRefused, check_model_name
from models_zoo.models import ACTIVE_RUN_STATES, ModelVersion, RunState, TrainingRun
from models_zoo.services.artifact_storage import artifact_key, delete_artifact, save_artifact
from models_zoo.services.datasets import (
    DatasetError,
    build_dataset,
    check_split,
    check_trainable,
    gold_examples,
)
from models_zoo.services.embedding_reuse import fit_with_store
from models_zoo.services.learning_curve import record_stop_set
from models_zoo.services.training_defaults import check_targets_name_labels, with_project_defaults
from models_zoo.services.versions import maybe_auto_promote
from models_zoo.splits import describe_split, parse_split

logger = logging.getLogger(__name__)

# Backends that fine-tune transformers: they go to settings.VIGIA_GPU_QUEUE when it is set.
GPU_BACKENDS = frozenset({"transformer_classifier", "span_tagger", "attention_bilstm", "clip_fusion"})
TASK_NAME = "vigia.train_model"
# Progress rows are written at most this often (seconds), so fast steps do not hammer the DB.
PROGRESS_INTERVAL = 1.0


class TrainingRequestError(Exception):
    """A run cannot be started or changed; `status` is the HTTP status the REST layer answers."""

    def __init__(self, message: str, status: int = 400, errors: list[dict[str, Any]] | None = None,
                 run_id: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = errors or []
        # The run this error is about (the active one of a 409), for a link to it.
        self.run_id = run_id


def backend_class(name: str) -> type[Backend]:
    """The backend class, or TrainingRequestError listing the valid names."""
    try:
        return registry.get_backend(name)
    except registry.UnknownBackend as exc:
        raise TrainingRequestError(str(exc), errors=[{"field": "backend", "message": str(exc)}]) from None
    except ImportError as exc:
        message = f"backend {name!r} cannot be loaded here: {exc}"
        raise TrainingRequestError(message, errors=[{"field": "backend", "message": message}]) from None


def validate_config(cls: type[Backend], config: dict[str, Any] | None) -> dict[str, Any]:
    """The full config (defaults filled in) as JSON, or a 400 naming each bad field."""
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise TrainingRequestError("config must be a JSON object", errors=[{"field": "config", "message": "must be a JSON object"}])
    try:
        clean = cls.Config.model_validate(config).model_dump(mode="json")
    except ValidationError as exc:
        errors = [
            {"field": "config." + ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise TrainingRequestError(f"invalid config: {summary}", errors=errors) from None
    # Models on disk only from registered names or the model roots, refused before a run
    # exists, with the same message whether or not the path exists.
    for name, kind in cls.Config.model_path_fields.items():
        if clean.get(name) in (None, ""):
            continue
        try:
            check_model_name(clean[name], kind)
        except ModelRefused as exc:
            field = f"config.{name}"
            raise TrainingRequestError(f"invalid config: {field}: {exc}",
                                       errors=[{"field": field, "message": str(exc)}]) from None
    return clean


def queue_for(backend_name: str) -> str:
    """Transformer backends go to the GPU queue when one is configured."""
    if backend_name in GPU_BACKENDS and settings.VIGIA_GPU_QUEUE:
        return settings.VIGIA_GPU_QUEUE
    return settings.CELERY_TASK_DEFAULT_QUEUE


def _mark_not_queued(run_id: int, reason: str) -> None:
    """The broker refused a committed run: fail it with the reason instead of leaving it
    "queued" for ever (which would block the project)."""
    message = f"could not enqueue the training task: {reason}"
    TrainingRun.objects.filter(pk=run_id, state=RunState.QUEUED).update(
        state=RunState.FAILED, error=message, finished_at=timezone.now(),
    )
    append_log(run_id, f"failed: {message}")


def enqueue_run(run: TrainingRun) -> None:
    """Send the `vigia.train_model` task for a committed run to its queue. When the broker
    cannot take it, the run fails at once (with the reason) and BrokerUnavailable propagates."""
    try:
        task_id = enqueue_task(TASK_NAME, [run.pk], queue=queue_for(run.backend))
    except BrokerUnavailable as exc:
        _mark_not_queued(run.pk, exc.reason)
        raise
    TrainingRun.objects.filter(pk=run.pk).update(celery_task_id=task_id)


def _enqueue_or_withdraw(run: TrainingRun) -> None:
    """Send the task now; when the broker cannot take it, delete the run and raise
    BrokerUnavailable (a 503), so the caller hears it and no run is left to block the project."""
    try:
        task_id = enqueue_task(TASK_NAME, [run.pk], queue=queue_for(run.backend))
    except BrokerUnavailable:
        logger.warning("could not enqueue training run %s; withdrawing it", run.pk)
        TrainingRun.objects.filter(pk=run.pk).delete()
        raise
    TrainingRun.objects.filter(pk=run.pk).update(celery_task_id=task_id)


def _raise_if_active(project: Project) -> None:
    active = TrainingRun.objects.filter(project=project, state__in=ACTIVE_RUN_STATES).first()
    if active is not None:
        raise TrainingRequestError(
            f"project {project.name!r} already has an active training run (run {active.pk}, "
            f"{active.state}); wait for it to finish or cancel it", status=409, run_id=active.pk,
        )


def start_training_run(
    project: Project, backend_name: str, config: dict[str, Any] | None, user: Any = None,
    *, enqueue: bool = True, require_queue: bool = False,
) -> TrainingRun:
    """Validate and create a queued run; the Celery task is sent once the row is committed.

    Raises TrainingRequestError: 400 for a bad backend, task type, config or too little data,
    409 when the project already has a queued or running run, and (`require_queue`, outside a
    transaction: the REST and web edges) 503 when the broker is down, leaving no run behind.
    Without `require_queue` (automatic retraining) such a run is marked failed instead.
    """
    cls = backend_class(backend_name)
    if project.task_type not in cls.task_types:
        message = (
            f"backend {backend_name!r} does not support task type {project.task_type!r}; "
            f"it supports {', '.join(cls.task_types)}"
        )
        raise TrainingRequestError(message, errors=[{"field": "backend", "message": message}])
    clean_config = validate_config(cls, with_project_defaults(project, cls, config))
    problems = check_targets_name_labels(project, clean_config)
    if problems:
        raise TrainingRequestError(
            "invalid config: config.threshold_targets: " + "; ".join(problems),
            errors=[{"field": "config.threshold_targets", "message": m} for m in problems],
        )
    reap_stale_runs(project=project)
    # Cheap early answer; the database constraint below still settles races.
    _raise_if_active(project)
    try:
        golds = gold_examples(project)
        check_trainable(golds, project.task_type)
        check_split(golds, parse_split(clean_config.get("validation_split")), project.task_type)
    except DatasetError as exc:
        field = "config.validation_split" if str(exc).startswith("validation_split") else "non_field_errors"
        raise TrainingRequestError(str(exc), errors=[{"field": field, "message": str(exc)}]) from None
    try:
        with transaction.atomic():
            run = TrainingRun.objects.create(
                project=project, backend=backend_name, config=clean_config,
                created_by=user if getattr(user, "is_authenticated", False) else None,
                log=f"{timezone.now():%Y-%m-%d %H:%M:%S} queued {backend_name}\n",
            )
    except IntegrityError:
        _raise_if_active(project)
        raise
    if enqueue and require_queue and not connection.in_atomic_block:
        _enqueue_or_withdraw(run)
    elif enqueue:
        transaction.on_commit(lambda: enqueue_run(run))
    return run


def append_log(run_id: int, line: str) -> None:
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M:%S")
    TrainingRun.objects.filter(pk=run_id).update(log=Concat(F("log"), Value(f"{stamp} {line}\n")))


def cancel_run(run: TrainingRun, force: bool = False) -> TrainingRun:
    """A queued run is cancelled at once; a running one stops at its next progress step.

    `force` (for a run whose worker is gone, so no progress step will come): a running run is
    marked cancelled now, releasing the project. Should its worker still be alive after all, it
    stops at its next step and records nothing: finishing and saving a version both require the
    run to be `running`."""
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if run.state == RunState.RUNNING and force:
            run.state = RunState.CANCELLED
            run.finished_at = timezone.now()
            run.cancel_requested = True
            run.eta_seconds = None
            run.save(update_fields=["state", "finished_at", "cancel_requested", "eta_seconds"])
            append_log(run.pk, "force-cancelled by an admin (worker gone?)")
            _announce_finished(run.pk, RunState.CANCELLED)
        elif run.state == RunState.QUEUED:
            run.state = RunState.CANCELLED
            run.finished_at = timezone.now()
            run.cancel_requested = True
            run.save(update_fields=["state", "finished_at", "cancel_requested"])
            append_log(run.pk, "cancelled before it started")
            _announce_finished(run.pk, RunState.CANCELLED)
        elif run.state == RunState.RUNNING:
            run.cancel_requested = True
            run.save(update_fields=["cancel_requested"])
            append_log(run.pk, "cancel requested")
        else:
            raise TrainingRequestError(f"run {run.pk} is already {run.state}", status=409)
    run.refresh_from_db()
    return run


def reap_stale_runs(project: Project | None = None) -> int:
    """Mark running runs whose heartbeat is older than VIGIA_RUN_STALE_SECONDS failed ("worker
    lost"); the current model is untouched. Returns how many were reaped."""
    cutoff = timezone.now() - timedelta(seconds=settings.VIGIA_RUN_STALE_SECONDS)
    stale = TrainingRun.objects.filter(state=RunState.RUNNING, heartbeat_at__lt=cutoff)
    if project is not None:
        stale = stale.filter(project=project)
    reaped = 0
    for run_id in list(stale.values_list("pk", flat=True)):
        message = (
            f"worker lost: no heartbeat for more than {settings.VIGIA_RUN_STALE_SECONDS} s"
        )
        updated = TrainingRun.objects.filter(
            pk=run_id, state=RunState.RUNNING, heartbeat_at__lt=cutoff
        ).update(state=RunState.FAILED, error=message, finished_at=timezone.now())
        if updated:
            append_log(run_id, message)
            logger.warning("training run %s: %s", run_id, message)
            _announce_finished(run_id, RunState.FAILED)
            reaped += 1
    return reaped


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
        _announce_finished(run_id, state)


def _announce_finished(run_id: int, state: str, version_id: int | None = None) -> None:
    """`training.finished` for downstream systems (config.events), with the run's outcome."""
    project_id = TrainingRun.objects.filter(pk=run_id).values_list("project_id", flat=True).first()
    if project_id is not None:
        emit(TRAINING_FINISHED, project_id, {"run": run_id, "state": state, "model_version": version_id})


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
        _announce_finished(run_id, RunState.SUCCEEDED, version.pk)
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
