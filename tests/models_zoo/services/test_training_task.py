"""The `vigia.train_model` Celery task, run eagerly in this process (the real-worker tests are
in tests/integration/test_training_worker.py)."""
from __future__ import annotations

from django.utils import timezone

from models_zoo.models import ModelVersion, RunState, TrainingRun
from models_zoo.services.training import start_training_run
from tasks.training import reap_stale_runs_task, train_model


def test_the_task_has_an_explicit_name_and_acks_late():
    assert train_model.name == "vigia.train_model"
    assert train_model.acks_late is True and train_model.reject_on_worker_lost is True
    assert reap_stale_runs_task.name == "vigia.reap_stale_runs"


def test_the_task_trains_a_queued_run(annotated_project, owner, stepping_backend):
    run = start_training_run(annotated_project, "stepping", {"steps": 2}, owner)
    result = train_model.apply(args=[run.pk])
    version = ModelVersion.objects.get(run=run)
    assert result.get() == version.pk
    assert TrainingRun.objects.get(pk=run.pk).state == RunState.SUCCEEDED


def test_a_redelivered_message_does_not_retrain_a_running_run(annotated_project, owner, stepping_backend):
    run = start_training_run(annotated_project, "stepping", {}, owner)
    TrainingRun.objects.filter(pk=run.pk).update(state=RunState.RUNNING, heartbeat_at=timezone.now())
    assert train_model.apply(args=[run.pk]).get() is None
    run.refresh_from_db()
    assert run.state == RunState.RUNNING and not ModelVersion.objects.exists()
