"""Chunked whole-project prediction, in process: ranges, one transaction per chunk, done chunks
never redone, cancel and resume; and the job REST endpoints."""

from __future__ import annotations

import pytest

from models_zoo.models import ChunkState, Prediction, PredictionChunk, PredictionJob
from models_zoo.services import chunked_prediction as service
from tests.conftest import make_project
from tests.models_zoo.chunk_fixtures import add_texts, tiny_artifact
from tests.models_zoo.prediction_fixtures import make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny_project(owner):
    return make_project(owner, labels=("HS", "TR", "AG"))


def test_chunks_cover_the_unpredicted_examples_in_id_ranges(tiny_project):
    version = make_version(tiny_project, tiny_artifact(), current=True)
    ids = add_texts(tiny_project, 25)
    Prediction.objects.create(example_id=ids[0], model_version=version, scores={}, labels=[])
    job = service.start_prediction_job(tiny_project, chunk_size=10)
    chunks = list(job.chunks.order_by("index"))
    assert [(c.first_id, c.last_id, c.examples) for c in chunks] == [
        (ids[1], ids[10], 10),
        (ids[11], ids[20], 10),
        (ids[21], ids[24], 4),
    ]
    assert (job.total_chunks, job.examples, job.state) == (3, 24, "running")


def test_each_chunk_predicts_once_and_the_job_finishes(tiny_project):
    version = make_version(tiny_project, tiny_artifact(), current=True)
    add_texts(tiny_project, 23)
    job = service.start_prediction_job(tiny_project, chunk_size=10)
    chunk_ids = list(job.chunks.order_by("index").values_list("id", flat=True))
    assert service.predict_chunk(chunk_ids[0]) == 10
    before = list(Prediction.objects.filter(model_version=version).values_list("id", "scores"))
    assert service.predict_chunk(chunk_ids[0]) == 0  # done: not redone
    assert (
        list(Prediction.objects.filter(model_version=version).values_list("id", "scores")) == before
    )
    for cid in chunk_ids[1:]:
        service.predict_chunk(cid)
    job.refresh_from_db()
    assert (job.state, job.done_chunks, job.predicted) == ("succeeded", 3, 23)
    assert Prediction.objects.filter(model_version=version).count() == 23
    assert set(PredictionChunk.objects.values_list("attempts", flat=True)) == {1}
    again = service.start_prediction_job(tiny_project, chunk_size=10)
    assert (again.total_chunks, again.state) == (0, "succeeded")


def test_cancel_stops_chunks_not_started_and_resume_finishes_them(tiny_project):
    make_version(tiny_project, tiny_artifact(), current=True)
    add_texts(tiny_project, 30)
    job = service.start_prediction_job(tiny_project, chunk_size=10)
    first, *rest = job.chunks.order_by("index").values_list("id", flat=True)
    service.predict_chunk(first)
    service.cancel_prediction_job(job)
    assert [service.predict_chunk(c) for c in rest] == [0, 0]
    job.refresh_from_db()
    assert (job.state, job.done_chunks) == ("cancelled", 1)
    service.resume_prediction_job(job)
    assert sorted(job.chunks.exclude(state=ChunkState.DONE).values_list("id", flat=True)) == sorted(
        rest
    )
    for c in rest:
        service.predict_chunk(c)
    job.refresh_from_db()
    assert (job.state, job.done_chunks, job.predicted) == ("succeeded", 3, 30)


def test_job_endpoints(tiny_project, owner_api, owner, annotator_user):
    from annotator.models import Membership, Role
    from tests.conftest import api_client_for

    make_version(tiny_project, tiny_artifact(), current=True)
    add_texts(tiny_project, 12)
    Membership.objects.create(user=annotator_user, project=tiny_project, role=Role.ANNOTATOR)
    annotator_api = api_client_for(annotator_user)
    url = f"/api/v1/projects/{tiny_project.pk}/prediction-jobs"
    assert annotator_api.post(url, {"chunk_size": 5}, format="json").status_code == 403
    bad = owner_api.post(url, {"chunk_size": 0}, format="json")
    assert bad.status_code == 400 and "chunk_size" in bad.json()
    assert owner_api.post(url, {"model_version": 999999}, format="json").status_code == 400
    res = owner_api.post(url, {"chunk_size": 5}, format="json")
    assert res.status_code == 202, res.json()
    body = res.json()
    assert body["chunks"] == {"total": 3, "done": 0, "running": 0, "pending": 3}
    job = PredictionJob.objects.get(pk=body["id"])
    for c in job.chunks.values_list("id", flat=True)[:1]:
        service.predict_chunk(c)
    detail = annotator_api.get(f"/api/v1/prediction-jobs/{job.pk}").json()
    assert (detail["chunks"]["done"], detail["progress"]) == (1, pytest.approx(1 / 3, abs=1e-4))
    assert owner_api.post(f"/api/v1/prediction-jobs/{job.pk}/cancel").json()["state"] == "cancelled"
    resumed = owner_api.post(f"/api/v1/prediction-jobs/{job.pk}/resume")
    assert resumed.status_code == 202 and resumed.json()["chunks"]["pending"] == 2
    assert len(owner_api.get(url).json()) == 1


def test_a_span_tagger_job_stores_each_tweets_mean_word_confidence(owner, tmp_path):
    """The confidence the active-learning queue ranks span examples by (issue 9) is stored with
    the prediction; classifier rows leave it empty."""
    from tests.models_zoo.tiny_span_tagger import make_case

    backend, train, validation, _ = make_case(tmp_path)
    backend.fit(train, validation)
    backend.save(tmp_path / "spans-artifact")
    project = make_project(owner, task_type="spans", labels=("LOC", "PER"))
    version = make_version(project, tmp_path / "spans-artifact", current=True)
    add_texts(project, 5)
    job = service.start_prediction_job(project, chunk_size=10)
    for cid in job.chunks.values_list("id", flat=True):
        service.predict_chunk(cid)

    stored = list(Prediction.objects.filter(model_version=version).values_list("confidence", flat=True))
    assert len(stored) == 5 and all(c is not None and 0 < c <= 1 for c in stored)


def test_classifier_predictions_store_no_confidence(tiny_project):
    version = make_version(tiny_project, tiny_artifact(), current=True)
    add_texts(tiny_project, 3)
    job = service.start_prediction_job(tiny_project, chunk_size=10)
    service.predict_chunk(job.chunks.get().id)
    assert set(Prediction.objects.filter(model_version=version).values_list("confidence", flat=True)) == {None}
