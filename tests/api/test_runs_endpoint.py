# ruff: noqa: F811  (fixtures imported from tests.models_zoo.services.helpers are parameters)
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from models_zoo.models import RunState, TrainingRun
from models_zoo.services.training import start_training_run
from models_zoo.services.training_worker import run_training
from tests.models_zoo.services.helpers import (  # noqa: F401 - fixtures
    annotated_project,
    artifacts_dir,
    stepping_backend,
)


def _trained_run(project, owner):
    run = start_training_run(project, "stepping", {"steps": 3}, owner)
    version = run_training(run.pk)
    return run, version


def test_members_read_a_run_with_progress_log_and_version(viewer_api, annotated_project, owner, stepping_backend):
    run, version = _trained_run(annotated_project, owner)
    response = viewer_api.get(f"/api/v1/runs/{run.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "succeeded" and body["progress"] == 1.0
    assert body["epoch"] == 3 and body["model_version"] == version.pk
    assert body["eta"] is None and body["error"] == ""
    assert any("succeeded" in line for line in body["log_tail"])


def test_outsiders_get_404_for_a_run(outsider_api, annotated_project, owner, stepping_backend):
    run = start_training_run(annotated_project, "stepping", {}, owner)
    assert outsider_api.get(f"/api/v1/runs/{run.pk}").status_code == 404
    assert outsider_api.get(f"/api/v1/projects/{annotated_project.pk}/runs/").status_code == 404


def test_reading_a_run_reaps_it_when_its_worker_is_gone(annotator_api, annotated_project, owner, stepping_backend, settings):
    settings.VIGIA_RUN_STALE_SECONDS = 5
    run = start_training_run(annotated_project, "stepping", {}, owner)
    TrainingRun.objects.filter(pk=run.pk).update(state=RunState.RUNNING, heartbeat_at=timezone.now() - timedelta(seconds=6))
    body = annotator_api.get(f"/api/v1/runs/{run.pk}").json()
    assert body["state"] == "failed" and "worker lost" in body["error"]


def test_the_project_run_list_is_newest_first(annotator_api, annotated_project, owner, stepping_backend):
    first, _ = _trained_run(annotated_project, owner)
    second = start_training_run(annotated_project, "stepping", {}, owner)
    response = annotator_api.get(f"/api/v1/projects/{annotated_project.pk}/runs/")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()] == [second.pk, first.pk]


def test_an_admin_cancels_a_queued_run(owner_api, annotated_project, owner, stepping_backend):
    run = start_training_run(annotated_project, "stepping", {}, owner)
    response = owner_api.post(f"/api/v1/runs/{run.pk}/cancel")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert TrainingRun.objects.get(pk=run.pk).state == RunState.CANCELLED


def test_cancelling_a_finished_run_is_409(owner_api, annotated_project, owner, stepping_backend):
    run, _ = _trained_run(annotated_project, owner)
    response = owner_api.post(f"/api/v1/runs/{run.pk}/cancel")
    assert response.status_code == 409
    assert "already succeeded" in response.json()["detail"]


def test_annotators_cannot_cancel_and_outsiders_see_nothing(annotator_api, outsider_api, annotated_project, owner, stepping_backend):
    run = start_training_run(annotated_project, "stepping", {}, owner)
    assert annotator_api.post(f"/api/v1/runs/{run.pk}/cancel").status_code == 403
    assert outsider_api.post(f"/api/v1/runs/{run.pk}/cancel").status_code == 404
    assert TrainingRun.objects.get(pk=run.pk).state == RunState.QUEUED


def test_the_run_url_also_answers_with_a_trailing_slash(viewer_api, annotated_project, owner, stepping_backend):
    run = start_training_run(annotated_project, "stepping", {}, owner)
    response = viewer_api.get(f"/api/v1/runs/{run.pk}/")
    assert response.status_code == 200 and response.json()["state"] == "queued"
