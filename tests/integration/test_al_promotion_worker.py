"""A promotion changes what the next annotator gets: the promote endpoint enqueues the
project prediction on a real Celery worker, which stores the predictions and then the
active-learning scores the claim orders by."""
from __future__ import annotations

import time

import pytest

from annotator.models import Example, Membership, Role
from models_zoo.backends.base import Item
from models_zoo.backends.embedding_head import EmbeddingHeadBackend
from models_zoo.models import Prediction
from tests.api.factories import make_example
from tests.conftest import api_client_for, make_project, make_user
from tests.models_zoo.prediction_fixtures import make_version
from tests.models_zoo.tiny_hf import synthetic_items, tiny_bert_dir

pytestmark = pytest.mark.integration


def fitted(directory, flip: bool):
    """Tiny-BERT embedding_head on synthetic binary items; `flip` learns the opposite label."""
    train = synthetic_items(60, "binary", ("HS",), seed=1)
    if flip:
        train = [Item(text=i.text, labels=[] if i.labels else ["HS"]) for i in train]
    backend = EmbeddingHeadBackend(["HS"], "binary", {"encoder": str(tiny_bert_dir()),
                                                      "device": "cpu", "embed_batch_size": 16})
    backend.fit(train, train[:20])
    backend.save(directory)
    return directory


def wait_for(predicate, timeout, what, worker):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker.poll() is not None:
            pytest.fail(f"worker died waiting for {what}: {worker.log_path.read_text()[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}: {worker.log_path.read_text()[-3000:]}")


def test_promoting_another_version_changes_the_next_example(celery_worker_process, tmp_path):
    owner = make_user("al-owner")
    project = make_project(owner, task_type="binary", labels=("HS",),
                           queue_strategy="likely_positive", queue_label="HS")
    first, second = make_user("al-a"), make_user("al-b")
    for user in (first, second):
        Membership.objects.create(user=user, project=project, role=Role.ANNOTATOR)
    for item in synthetic_items(24, "binary", ("HS",), seed=5):
        make_example(project, item.text)
    v1 = make_version(project, fitted(tmp_path / "v1", flip=False))
    v2 = make_version(project, fitted(tmp_path / "v2", flip=True))
    admin = api_client_for(owner)

    def promoted_and_scored(version):
        def done():
            n = Prediction.objects.filter(model_version=version).count()
            scored = Example.objects.filter(project=project, al_score__gte=0).count()
            return n == 24 and scored == 24 and _scores_from(version)
        return done

    def _scores_from(version):
        # Every stored score equals this version's probability of HS (likely_positive).
        p = dict(Prediction.objects.filter(model_version=version)
                 .values_list("example_id", "scores"))
        stored = dict(Example.objects.filter(project=project).values_list("id", "al_score"))
        return len(p) == 24 and all(abs(stored[i] - s["HS"]) < 1e-9 for i, s in p.items())

    assert admin.post(f"/api/v1/models/{v1.pk}/promote").status_code == 200
    wait_for(promoted_and_scored(v1), 240, "v1 predictions and scores", celery_worker_process)
    got_v1 = api_client_for(first).post(f"/api/v1/projects/{project.pk}/queue/next").json()
    p1 = Prediction.objects.get(model_version=v1, example_id=got_v1["id"]).scores["HS"]
    assert p1 == pytest.approx(max(p.scores["HS"] for p in Prediction.objects.filter(model_version=v1)))
    assert got_v1["reason"].startswith("likely positive for HS: ")

    assert admin.post(f"/api/v1/models/{v2.pk}/promote").status_code == 200
    wait_for(promoted_and_scored(v2), 240, "v2 predictions and scores", celery_worker_process)
    got_v2 = api_client_for(second).post(f"/api/v1/projects/{project.pk}/queue/next").json()
    best_v2 = max(Prediction.objects.filter(model_version=v2), key=lambda p: p.scores["HS"])
    # The flipped model likes the opposite tweets: its favourite is not v1's, and that is what
    # the next annotator gets.
    assert best_v2.example_id != got_v1["id"]
    assert got_v2["id"] == best_v2.example_id
    assert "vigia.predict_chunk" in celery_worker_process.log_path.read_text()
