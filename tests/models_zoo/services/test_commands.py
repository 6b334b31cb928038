"""`manage.py train` and `manage.py reap_stale_runs`."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from models_zoo.models import ModelVersion, RunState, TrainingRun
from tests.conftest import ROOT, make_project


def test_train_inline_trains_without_a_worker(annotated_project, stepping_backend):
    out = StringIO()
    call_command("train", str(annotated_project.pk), "--backend", "stepping", "--config", '{"steps": 2}',
                 "--inline", stdout=out)
    run = TrainingRun.objects.get(project=annotated_project)
    version = ModelVersion.objects.get(run=run)
    assert run.state == RunState.SUCCEEDED and run.config["steps"] == 2
    assert f"run {run.pk} succeeded: model version {version.pk}" in out.getvalue()


def test_train_finds_the_project_by_name(annotated_project, stepping_backend):
    call_command("train", annotated_project.name, "--backend", "stepping", "--inline", stdout=StringIO())
    assert TrainingRun.objects.get().state == RunState.SUCCEEDED


def test_train_without_wait_only_enqueues(annotated_project, stepping_backend, django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("train", str(annotated_project.pk), "--backend", "stepping", stdout=out)
    assert TrainingRun.objects.get().state == RunState.QUEUED
    assert len(callbacks) == 1 and "queued" in out.getvalue()


def test_train_reports_bad_input_clearly(annotated_project, stepping_backend):
    with pytest.raises(CommandError, match="--config is not valid JSON"):
        call_command("train", str(annotated_project.pk), "--backend", "stepping", "--config", "{", "--inline")
    with pytest.raises(CommandError, match="valid backends"):
        call_command("train", str(annotated_project.pk), "--backend", "nope", "--inline")
    with pytest.raises(CommandError, match="config.steps"):
        call_command("train", str(annotated_project.pk), "--backend", "stepping", "--config", '{"steps": "x"}')
    with pytest.raises(CommandError, match="no project"):
        call_command("train", "no such project", "--backend", "stepping")
    assert not TrainingRun.objects.exists()


def test_a_failed_inline_run_is_a_command_error(annotated_project, stepping_backend):
    with pytest.raises(CommandError, match="failed at step 1"):
        call_command("train", str(annotated_project.pk), "--backend", "stepping", "--config",
                     '{"fail_at": 1}', "--inline", stdout=StringIO())
    assert TrainingRun.objects.get().state == RunState.FAILED


def test_reap_stale_runs_command_marks_dead_runs_failed(annotated_project, stepping_backend, settings):
    settings.VIGIA_RUN_STALE_SECONDS = 60
    run = TrainingRun.objects.create(project=annotated_project, backend="stepping", state=RunState.RUNNING,
                                     heartbeat_at=timezone.now() - timedelta(minutes=5))
    out = StringIO()
    call_command("reap_stale_runs", stdout=out)
    assert "1 stale run(s) marked failed" in out.getvalue()
    run.refresh_from_db()
    assert run.state == RunState.FAILED and "worker lost" in run.error


def test_an_unreachable_broker_fails_the_command_and_leaves_no_run(transactional_db, owner):
    """`manage.py train` in a real process whose broker does not answer (nothing listens on
    port 1): the command fails at once with a clear error and no run is left to block the project."""
    from tests.conftest import _database_url_for_current_test_db
    from tests.models_zoo.services.helpers import annotate

    project = make_project(owner)
    annotate(project, owner)
    env = {**os.environ, "DATABASE_URL": _database_url_for_current_test_db(),
           "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"}
    done = subprocess.run(
        [sys.executable, "manage.py", "train", str(project.pk), "--backend", "embedding_head"],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0
    assert "the task queue is unavailable, no run was started" in done.stderr
    assert not TrainingRun.objects.filter(project=project).exists()  # nothing left to block it
