"""POST /api/v1/projects/{id}/predict-all and GET /api/v1/projects/{id}/predictions/status.

The Celery job itself runs on a real worker in tests/integration/test_predict_project_worker.py;
here the enqueue is checked through the on-commit hook and the job's service runs in-process.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from annotator.models import Example
from annotator.normalize import content_hash, normalize
from models_zoo.models import Prediction, PredictionJob
from models_zoo.services.prediction import predict_project
from tests.models_zoo.prediction_fixtures import hateval_rows, make_version, prediction_artifacts


@pytest.fixture(scope="session")
def hateval_artifacts():
    return prediction_artifacts()


def predict_all_url(project_id: int) -> str:
    return f"/api/v1/projects/{project_id}/predict-all"


def status_url(project_id: int) -> str:
    return f"/api/v1/projects/{project_id}/predictions/status"


def add_examples(project, n: int, offset: int = 100) -> list[Example]:
    examples = []
    for text, _labels in hateval_rows(n, offset=offset):
        clean = normalize(text, project.normalization)
        examples.append(
            Example(
                project=project, text=text, normalized_text=clean, content_hash=content_hash(clean)
            )
        )
    return Example.objects.bulk_create(examples)


@pytest.fixture
def v1(project, hateval_artifacts):
    return make_version(project, hateval_artifacts["v1"], current=True)


def test_admins_start_a_job_for_the_current_version(
    owner_api, project, v1, django_capture_on_commit_callbacks
):
    add_examples(project, 3)  # something to predict: a job without chunks sends nothing
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_api.post(predict_all_url(project.pk), format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["model_version"] == v1.pk
    job = PredictionJob.objects.get(pk=body["job"])
    assert (job.project_id, job.model_version_id) == (project.pk, v1.pk)
    assert body["chunks"] == job.total_chunks == job.chunks.count()
    assert body["status_url"].endswith(f"/predictions/status?model_version={v1.pk}")
    assert body["job_url"].endswith(f"/api/v1/prediction-jobs/{job.pk}")
    # Enqueued only once the request's transaction commits.
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    "client_name, expected", [("annotator_api", 403), ("viewer_api", 403), ("outsider_api", 404)]
)
def test_only_project_admins_may_start_a_job(
    request, client_name, expected, project, v1, django_capture_on_commit_callbacks
):
    client = request.getfixturevalue(client_name)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(predict_all_url(project.pk), format="json")

    assert response.status_code == expected
    assert callbacks == []


def test_it_requires_authentication(project, v1):
    assert APIClient().post(predict_all_url(project.pk), format="json").status_code == 401
    assert APIClient().get(status_url(project.pk)).status_code == 401


def test_starting_a_job_without_a_current_model_answers_409(owner_api, project):
    response = owner_api.post(predict_all_url(project.pk), format="json")

    assert response.status_code == 409
    assert "has no current model; train one and promote it" in response.json()["detail"]


def test_the_job_stores_one_prediction_per_example(project, v1):
    examples = add_examples(project, 12)

    written = predict_project(project.pk, v1.pk, batch_size=5)

    assert written == 12
    rows = Prediction.objects.filter(model_version=v1)
    assert sorted(rows.values_list("example_id", flat=True)) == sorted(e.pk for e in examples)
    for row in rows:
        assert set(row.scores) == {"HS", "TR", "AG"}
        assert all(0.0 <= p <= 1.0 for p in row.scores.values())
        assert row.labels == [n for n in ("HS", "TR", "AG") if row.scores[n] >= v1.thresholds[n]]


def test_the_job_resumes_and_never_duplicates(project, v1):
    examples = add_examples(project, 9)
    Prediction.objects.create(example=examples[3], model_version=v1, scores={"HS": 0.5})

    first = predict_project(project.pk, v1.pk, batch_size=4)
    second = predict_project(project.pk, v1.pk, batch_size=4)

    assert first == 8  # the already predicted example is skipped
    assert second == 0
    assert Prediction.objects.filter(model_version=v1).count() == 9


def test_the_job_refuses_a_version_of_another_project(project, v1, owner, hateval_artifacts):
    from tests.conftest import make_project

    other = make_project(owner)
    foreign = make_version(other, hateval_artifacts["v1"])

    with pytest.raises(ValueError, match=f"belongs to project {other.pk}"):
        predict_project(project.pk, foreign.pk)


def test_members_see_the_progress_of_the_stored_predictions(viewer_api, project, v1):
    add_examples(project, 6)

    before = viewer_api.get(status_url(project.pk)).json()
    predict_project(project.pk, v1.pk)
    after = viewer_api.get(status_url(project.pk)).json()

    assert before == {
        "model_version": v1.pk,
        "examples": 6,
        "predicted": 0,
        "remaining": 6,
        "progress": 0.0,
        "complete": False,
    }
    assert after == {
        "model_version": v1.pk,
        "examples": 6,
        "predicted": 6,
        "remaining": 0,
        "progress": 1.0,
        "complete": True,
    }


def test_the_status_of_a_named_version_must_belong_to_the_project(
    owner_api, owner, project, v1, hateval_artifacts
):
    from tests.conftest import make_project

    foreign = make_version(make_project(owner), hateval_artifacts["v1"])

    assert owner_api.get(status_url(project.pk), {"model_version": v1.pk}).status_code == 200
    assert owner_api.get(status_url(project.pk), {"model_version": foreign.pk}).status_code == 404
    assert owner_api.get(status_url(project.pk), {"model_version": "abc"}).status_code == 400


def test_the_status_says_when_there_is_no_model(owner_api, project):
    add_examples(project, 2)

    body = owner_api.get(status_url(project.pk)).json()

    assert body["model_version"] is None and body["predicted"] == 0 and body["complete"] is False


def test_outsiders_cannot_read_the_status(outsider_api, project, v1):
    assert outsider_api.get(status_url(project.pk)).status_code == 404
