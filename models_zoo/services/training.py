"""Training runs: start (validate + enqueue), run (in a Celery worker or inline), cancel, reap.

A run goes queued -> running -> succeeded | failed | cancelled. The database allows one active
run per project (constraint `one_active_run_per_project`); the Celery task only carries the
run id and is idempotent: a run that is not queued any more is never trained again, which
matters because `acks_late` + `reject_on_worker_lost` may redeliver it.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from pydantic import ValidationError

from annotator.models import Project
from config.enqueue import BrokerUnavailable
from config.enqueue import enqueue as enqueue_task
from config.events import TRAINING_FINISHED, emit
from models_zoo import registry
from models_zoo.backends.base import Backend
from models_zoo.model_roots import ModelRefused, check_model_name
from models_zoo.models import ACTIVE_RUN_STATES, RunState, TrainingRun
from models_zoo.services.datasets import (
    DatasetError,
    check_split,
    check_trainable,
    gold_examples,
)
from models_zoo.services.queues import queue_for
from models_zoo.services.training_defaults import check_targets_name_labels, with_project_defaults
from models_zoo.splits import parse_split

logger = logging.getLogger(__name__)

# Backends that fine-tune transformers: they go to settings.VIGIA_GPU_QUEUE when it is set.
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
            announce_finished(run.pk, RunState.CANCELLED)
        elif run.state == RunState.QUEUED:
            run.state = RunState.CANCELLED
            run.finished_at = timezone.now()
            run.cancel_requested = True
            run.save(update_fields=["state", "finished_at", "cancel_requested"])
            append_log(run.pk, "cancelled before it started")
            announce_finished(run.pk, RunState.CANCELLED)
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
            announce_finished(run_id, RunState.FAILED)
            reaped += 1
    return reaped


def announce_finished(run_id: int, state: str, version_id: int | None = None) -> None:
    """`training.finished` for downstream systems (config.events), with the run's outcome."""
    project_id = TrainingRun.objects.filter(pk=run_id).values_list("project_id", flat=True).first()
    if project_id is not None:
        emit(TRAINING_FINISHED, project_id, {"run": run_id, "state": state, "model_version": version_id})
