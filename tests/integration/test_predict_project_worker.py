"""Predict a whole project on a real Celery worker (real Redis, real worker process)."""

from __future__ import annotations

import time

import pytest

from annotator.models import Example
from annotator.normalize import content_hash, normalize
from models_zoo.models import Prediction, PredictionJob
from tests.models_zoo.prediction_fixtures import hateval_rows, make_version, prediction_artifacts


@pytest.fixture(scope="session")
def hateval_artifacts():
    return prediction_artifacts()


pytestmark = pytest.mark.integration


def wait_for(predicate, timeout: float, what: str, worker) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker.poll() is not None:
            pytest.fail(
                f"worker died while waiting for {what}: {worker.log_path.read_text()[-3000:]}"
            )
        time.sleep(0.5)
    pytest.fail(
        f"timed out after {timeout}s waiting for {what}: {worker.log_path.read_text()[-3000:]}"
    )


def test_predict_all_stores_predictions_through_a_real_worker(
    celery_worker_process, owner_api, project, hateval_artifacts
):
    version = make_version(project, hateval_artifacts["v1"], current=True)
    for text, _labels in hateval_rows(30, offset=200):
        clean = normalize(text, project.normalization)
        Example.objects.create(
            project=project, text=text, normalized_text=clean, content_hash=content_hash(clean)
        )
    examples = Example.objects.filter(project=project).count()
    status_url = f"/api/v1/projects/{project.pk}/predictions/status"

    started = owner_api.post(f"/api/v1/projects/{project.pk}/predict-all", format="json")
    assert started.status_code == 202, started.content
    assert started.json()["model_version"] == version.pk

    wait_for(
        lambda: owner_api.get(status_url).json()["complete"],
        240,
        "the predictions",
        celery_worker_process,
    )
    rows = Prediction.objects.filter(model_version=version)
    assert rows.count() == examples
    assert all(set(r.scores) == {"HS", "TR", "AG"} for r in rows)
    # The stored rows agree with what the REST API answers for the same text.
    sample = rows.select_related("example").first()
    live = owner_api.post(
        f"/api/v1/projects/{project.pk}/predict", {"texts": [sample.example.text]}, format="json"
    ).json()
    assert live["predictions"][0]["scores"] == pytest.approx(sample.scores, abs=1e-5)
    assert live["predictions"][0]["labels"] == sample.labels
    log = celery_worker_process.log_path.read_text()
    assert "vigia.predict_chunk" in log

    # A second job for the same version is idempotent: nothing new, nothing duplicated.
    again = owner_api.post(f"/api/v1/projects/{project.pk}/predict-all", format="json")
    assert again.status_code == 202
    # Its job has no chunk left to predict: it is complete at once.
    assert again.json()["chunks"] == 0
    job = PredictionJob.objects.get(pk=again.json()["job"])
    assert job.state == "succeeded"
    assert Prediction.objects.filter(model_version=version).count() == examples
