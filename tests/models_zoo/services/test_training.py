from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from config.storage import MANIFEST
from models_zoo.artifacts import load_backend
from models_zoo.backends.base import Item
from models_zoo.models import ModelVersion, RunState, TrainingRun
from models_zoo.services.artifact_storage import local_artifact
from models_zoo.services.queues import queue_for
from models_zoo.services.training import (
    TrainingRequestError,
    cancel_run,
    reap_stale_runs,
    start_training_run,
)
from models_zoo.services.training_worker import run_training
from models_zoo.services.versions import promote_version
from tests.conftest import make_project


def test_a_run_trains_saves_the_artifact_and_creates_a_version(annotated_project, owner, stepping_backend, artifacts_dir):
    run = start_training_run(annotated_project, "stepping", {"steps": 3, "seed": 4}, owner)
    assert run.state == RunState.QUEUED
    version = run_training(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED and run.progress == 1.0
    assert run.epoch == 3 and run.loss == pytest.approx(1 / 3)
    assert run.started_at and run.finished_at and run.heartbeat_at
    assert "step 3" in run.log and f"model version {version.pk}" in run.log
    assert version.run_id == run.pk and version.backend == "stepping"
    assert version.config["steps"] == 3
    assert version.labels == ["HS", "TR", "AG"]
    assert set(version.thresholds) == {"HS", "TR", "AG"}
    assert "f1_macro" in version.metrics and "per_class" in version.metrics
    assert version.data_snapshot["seed"] == 4
    assert version.data_snapshot["counts"]["train"] == 16
    # A storage key, never a host path; the checksum names the stored manifest.
    assert version.artifact_dir == f"{annotated_project.pk}/{run.pk}"
    assert len(version.artifact_checksum) == 64
    artifact = artifacts_dir / version.artifact_dir
    assert [p.name for p in artifact.parent.iterdir()] == [str(run.pk)]  # no temp dir left
    assert (artifact / MANIFEST).is_file()
    reloaded = load_backend(local_artifact(version.artifact_dir, version.artifact_checksum))
    assert reloaded.predict([Item(text="x")])[0].scores["AG"] == pytest.approx(0.5)
    assert not version.is_current  # auto_promote is off by default


def test_auto_promote_makes_the_first_version_current(annotated_project, owner, stepping_backend, artifacts_dir):
    annotated_project.auto_promote = True
    annotated_project.save()
    run = start_training_run(annotated_project, "stepping", {}, owner)
    version = run_training(run.pk)
    version.refresh_from_db()
    assert version.is_current and version.promoted_at is not None
    assert "auto-promoted" in TrainingRun.objects.get(pk=run.pk).log


def test_a_second_active_run_is_a_409(annotated_project, owner, stepping_backend):
    first = start_training_run(annotated_project, "stepping", {}, owner)
    with pytest.raises(TrainingRequestError) as err:
        start_training_run(annotated_project, "stepping", {}, owner)
    assert err.value.status == 409 and f"run {first.pk}" in err.value.message
    assert TrainingRun.objects.filter(project=annotated_project).count() == 1


def test_an_unknown_backend_lists_the_valid_names(annotated_project, owner):
    with pytest.raises(TrainingRequestError) as err:
        start_training_run(annotated_project, "nope", {}, owner)
    assert err.value.status == 400 and "embedding_head" in err.value.message


def test_a_bad_config_names_the_field(annotated_project, owner, stepping_backend):
    with pytest.raises(TrainingRequestError) as err:
        start_training_run(annotated_project, "stepping", {"steps": "many", "colour": 1}, owner)
    fields = {e["field"] for e in err.value.errors}
    assert fields == {"config.steps", "config.colour"}
    assert not TrainingRun.objects.exists()


def test_a_backend_that_does_not_support_the_task_type_is_refused(owner, stepping_backend):
    project = make_project(owner, "spans", labels=("LOC",))
    with pytest.raises(TrainingRequestError, match="does not support task type 'spans'"):
        start_training_run(project, "stepping", {}, owner)


def test_too_little_data_is_a_clear_400(project, owner, stepping_backend):
    with pytest.raises(TrainingRequestError, match="at least 6 annotated examples") as err:
        start_training_run(project, "stepping", {}, owner)
    assert err.value.status == 400


def test_the_task_is_sent_after_commit(annotated_project, owner, stepping_backend, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        start_training_run(annotated_project, "stepping", {}, owner)
    assert len(callbacks) == 1


def test_transformer_backends_go_to_the_gpu_queue_when_set(settings):
    settings.VIGIA_GPU_QUEUE = ""
    assert queue_for("transformer_classifier") == "celery"
    settings.VIGIA_GPU_QUEUE = "gpu"
    assert queue_for("transformer_classifier") == "gpu"
    assert queue_for("span_tagger") == "gpu" and queue_for("attention_bilstm") == "gpu"
    assert queue_for("clip_fusion") == "gpu"
    assert queue_for("embedding_head") == "celery"


def _current_version(project, artifacts_dir) -> ModelVersion:
    version = ModelVersion.objects.create(
        project=project, backend="stepping", artifact_dir=f"{project.pk}/old",
        labels=["HS", "TR", "AG"], metrics={"f1_macro": 0.5},
    )
    return promote_version(version)


def test_a_failing_run_records_the_error_and_keeps_the_current_model(
    annotated_project, owner, stepping_backend, artifacts_dir, caplog
):
    current = _current_version(annotated_project, artifacts_dir)
    run = start_training_run(annotated_project, "stepping", {"steps": 3, "fail_at": 2}, owner)
    assert run_training(run.pk) is None
    run.refresh_from_db()
    assert run.state == RunState.FAILED and run.finished_at
    assert "failed at step 2 on purpose" in run.error and "RuntimeError" in run.error
    # Issue 20: what admins see has no traceback and no path; the worker's log keeps both.
    for shown in (run.error, run.log):
        assert "Traceback" not in shown and "stepping_backend.py" not in shown and "/tests/" not in shown
    assert "in <path>" in run.error
    logged = [r for r in caplog.records if r.exc_info and "training run" in r.getMessage()]
    assert logged and "stepping_backend.py" in caplog.text
    assert ModelVersion.objects.get(is_current=True) == current
    assert ModelVersion.objects.count() == 1
    assert not (artifacts_dir / str(annotated_project.pk) / str(run.pk)).exists()


def test_cancelling_a_queued_run_stops_it_before_it_starts(annotated_project, owner, stepping_backend):
    run = start_training_run(annotated_project, "stepping", {}, owner)
    cancel_run(run)
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED
    assert run_training(run.pk) is None  # a late task message does nothing
    assert TrainingRun.objects.get(pk=run.pk).state == RunState.CANCELLED
    with pytest.raises(TrainingRequestError) as err:
        cancel_run(run)
    assert err.value.status == 409


def test_a_cancel_request_stops_a_running_run_at_its_next_step(annotated_project, owner, stepping_backend, artifacts_dir):
    current = _current_version(annotated_project, artifacts_dir)
    run = start_training_run(annotated_project, "stepping", {"steps": 50}, owner)
    # The flag as cancel_run sets it on a running run, raised before the first progress step.
    TrainingRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    assert run_training(run.pk) is None
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED and run.epoch == 1
    assert ModelVersion.objects.get(is_current=True) == current


def test_a_finished_run_is_never_trained_again(annotated_project, owner, stepping_backend, artifacts_dir):
    run = start_training_run(annotated_project, "stepping", {}, owner)
    run_training(run.pk)
    assert run_training(run.pk) is None
    assert ModelVersion.objects.count() == 1


def test_stale_runs_are_reaped_as_worker_lost(annotated_project, owner, stepping_backend, artifacts_dir, settings):
    settings.VIGIA_RUN_STALE_SECONDS = 30
    current = _current_version(annotated_project, artifacts_dir)
    run = start_training_run(annotated_project, "stepping", {}, owner)
    TrainingRun.objects.filter(pk=run.pk).update(
        state=RunState.RUNNING, heartbeat_at=timezone.now() - timedelta(seconds=31)
    )
    fresh_project = make_project(owner, labels=("HS",))
    fresh = TrainingRun.objects.create(project=fresh_project, backend="stepping", state=RunState.RUNNING,
                                       heartbeat_at=timezone.now())
    assert reap_stale_runs() == 1
    run.refresh_from_db()
    assert run.state == RunState.FAILED and "worker lost" in run.error and "worker lost" in run.log
    assert TrainingRun.objects.get(pk=fresh.pk).state == RunState.RUNNING
    assert ModelVersion.objects.get(is_current=True) == current
    # A redelivered task message for the reaped run does not train it.
    assert run_training(run.pk) is None
    assert TrainingRun.objects.get(pk=run.pk).state == RunState.FAILED
    # And the project can train again.
    assert start_training_run(annotated_project, "stepping", {}, owner).state == RunState.QUEUED


def test_progress_is_written_at_most_once_a_second(annotated_project, owner, stepping_backend, artifacts_dir):
    run = start_training_run(annotated_project, "stepping", {"steps": 200}, owner)
    run_training(run.pk)
    run.refresh_from_db()
    # 200 fast steps: the first and the last write, each message still in the log.
    assert run.epoch == 200 and run.state == RunState.SUCCEEDED
    assert "step 1\n" in run.log and "step 200" in run.log

