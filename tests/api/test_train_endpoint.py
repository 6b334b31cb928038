# ruff: noqa: F811  (fixtures imported from tests.models_zoo.services.helpers are parameters)
from __future__ import annotations

from models_zoo.models import RunState, TrainingRun
from tests.models_zoo.services.helpers import (  # noqa: F401 - fixtures
    annotated_project,
    artifacts_dir,
    stepping_backend,
)


def url(project) -> str:
    return f"/api/v1/projects/{project.pk}/train"


def test_an_admin_starts_a_run_and_gets_202_with_its_id(owner_api, owner, annotated_project, stepping_backend, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_api.post(url(annotated_project), {"backend": "stepping", "config": {"steps": 2}}, format="json")
    assert response.status_code == 202, response.content
    run = TrainingRun.objects.get(pk=response.json()["run"])
    assert run.state == RunState.QUEUED and run.created_by == owner
    assert run.config["steps"] == 2 and run.config["seed"] == 13
    assert len(callbacks) == 1  # the Celery task is sent once the run is committed


def test_it_rejects_annotators_with_403(annotator_api, annotated_project, stepping_backend):
    response = annotator_api.post(url(annotated_project), {"backend": "stepping"}, format="json")
    assert response.status_code == 403
    assert not TrainingRun.objects.exists()


def test_it_hides_the_project_from_outsiders(outsider_api, annotated_project, stepping_backend):
    response = outsider_api.post(url(annotated_project), {"backend": "stepping"}, format="json")
    assert response.status_code == 404
    assert not TrainingRun.objects.exists()


def test_a_second_run_while_one_is_active_is_409(owner_api, annotated_project, stepping_backend):
    assert owner_api.post(url(annotated_project), {"backend": "stepping"}, format="json").status_code == 202
    response = owner_api.post(url(annotated_project), {"backend": "stepping"}, format="json")
    assert response.status_code == 409
    assert "already has an active training run" in response.json()["detail"]
    assert TrainingRun.objects.count() == 1


def test_an_unknown_backend_is_400_listing_valid_ones(owner_api, annotated_project):
    response = owner_api.post(url(annotated_project), {"backend": "gpt"}, format="json")
    assert response.status_code == 400
    assert "embedding_head" in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "backend"


def test_a_bad_config_is_400_naming_the_field(owner_api, annotated_project, stepping_backend):
    response = owner_api.post(url(annotated_project), {"backend": "stepping", "config": {"steps": "lots"}}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "config.steps"
    assert "config.steps" in response.json()["detail"]


def test_too_few_annotations_is_400(owner_api, project, stepping_backend):
    response = owner_api.post(url(project), {"backend": "stepping"}, format="json")
    assert response.status_code == 400
    assert "at least 6 annotated examples" in response.json()["detail"]


def test_a_missing_backend_field_is_400(owner_api, annotated_project):
    response = owner_api.post(url(annotated_project), {}, format="json")
    assert response.status_code == 400
    assert "backend" in response.json()
