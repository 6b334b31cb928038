"""Cold start in the live queue (issue 18), on a real Celery worker:

- strategy `query`: once the worker has embedded the pool, the queue serves the examples
  nearest to the admin's description first ("close to your description: 0.93"); after a
  promotion (the worker predicts and rescores) it hands over to `queue_then`;
- `transfer_model_version`: another project's version predicts this pool on the worker and
  drives `likely_positive` (and the annotate page's suggestions) until this project's own
  model is promoted.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

from annotator.models import Example, Membership, Role
from annotator.services.embeddings import encode_texts, load_vectors
from models_zoo.backends.base import Item
from models_zoo.backends.embedding_head import EmbeddingHeadBackend
from models_zoo.models import Prediction
from models_zoo.services.cold_start import usable_embedding_set
from tests.api.factories import make_example
from tests.conftest import api_client_for, make_project, make_user
from tests.models_zoo.prediction_fixtures import make_version
from tests.models_zoo.tiny_hf import synthetic_items, tiny_bert_dir

pytestmark = pytest.mark.integration


def fitted(directory, encoder: str, flip: bool = False):
    """Tiny-BERT embedding_head on synthetic binary items; `flip` learns the opposite label."""
    train = synthetic_items(60, "binary", ("HS",), seed=1)
    if flip:
        train = [Item(text=i.text, labels=[] if i.labels else ["HS"]) for i in train]
    backend = EmbeddingHeadBackend(["HS"], "binary", {"encoder": encoder, "device": "cpu",
                                                      "embed_batch_size": 16})
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


def scored(project, n):
    return lambda: Example.objects.filter(project=project, al_score__gte=0).count() == n


def test_the_query_queue_serves_the_nearest_first_and_hands_over_after_a_promotion(
        celery_worker_process, settings, tmp_path):
    settings.VIGIA_ARTIFACTS_DIR = tmp_path / "var" / "artifacts"  # the worker's directory
    encoder = str(tiny_bert_dir())
    owner = make_user("cold-owner")
    first, second = make_user("cold-a"), make_user("cold-b")
    project = make_project(owner, task_type="binary", labels=("HS",))
    for user in (first, second):
        Membership.objects.create(user=user, project=project, role=Role.ANNOTATOR)
    items = synthetic_items(24, "binary", ("HS",), seed=5)
    examples = [make_example(project, item.text) for item in items]
    admin = api_client_for(owner)
    description = items[7].text  # the closest example to it is that very tweet
    changed = admin.patch(f"/api/v1/projects/{project.pk}/", {
        "queue_strategy": "query", "queue_query": [description], "queue_then": "likely_positive",
        "queue_label": "HS"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["queue_query"] == [description]
    # No vectors yet: nothing scored. The embedding job's last chunk rescores the query queue.
    assert admin.post(f"/api/v1/projects/{project.pk}/embeddings", {"encoder": encoder},
                      format="json").status_code == 202
    wait_for(scored(project, 24), 240, "the embedding job and the query scores", celery_worker_process)

    ids, vectors = load_vectors(usable_embedding_set(project))
    query = encode_texts(project, [description], encoder)[0]
    closeness = dict(zip(ids.tolist(), np.clip(np.asarray(vectors) @ query, 0, 1).tolist()))
    stored = dict(Example.objects.filter(project=project).values_list("id", "al_score"))
    assert all(abs(stored[i] - c) < 1e-5 for i, c in closeness.items())
    got = api_client_for(first).post(f"/api/v1/projects/{project.pk}/queue/next").json()
    assert got["id"] == examples[7].pk
    assert got["reason"].startswith("close to your description: ") and got["score"] == pytest.approx(1.0, abs=1e-4)
    page = api_client_for(first)  # the annotate page says it too
    page.force_login(first)
    html = page.get(f"/projects/{project.pk}/annotate/").content.decode()
    assert "Why this one: close to your description: 1.00" in html

    version = make_version(project, fitted(tmp_path / "v1", encoder))
    assert admin.post(f"/api/v1/models/{version.pk}/promote").status_code == 200

    def handed_over():
        p = dict(Prediction.objects.filter(model_version=version).values_list("example_id", "scores"))
        stored = dict(Example.objects.filter(project=project).values_list("id", "al_score"))
        return len(p) == 24 and all(abs(stored[i] - s["HS"]) < 1e-9 for i, s in p.items())

    wait_for(handed_over, 240, "the promotion's predictions and likely_positive scores",
             celery_worker_process)
    best = max(Prediction.objects.filter(model_version=version).exclude(example_id=examples[7].pk),
               key=lambda p: p.scores["HS"])
    nxt = api_client_for(second).post(f"/api/v1/projects/{project.pk}/queue/next").json()
    assert nxt["id"] == best.example_id
    assert nxt["reason"].startswith("likely positive for HS: ")
    strategies = admin.get(f"/api/v1/projects/{project.pk}/queue-strategies").json()
    assert strategies["current"] == "query" and strategies["queue_then"] == "likely_positive"


def test_a_transfer_model_drives_likely_positive_until_the_projects_own_model_is_promoted(
        celery_worker_process, settings, tmp_path):
    settings.VIGIA_ARTIFACTS_DIR = tmp_path / "var" / "artifacts"
    encoder = str(tiny_bert_dir())
    owner = make_user("transfer-owner")
    a, b, c = make_user("tr-a"), make_user("tr-b"), make_user("tr-c")
    previous = make_project(owner, task_type="binary", labels=("HS",))
    project = make_project(owner, task_type="binary", labels=("HS",),
                           queue_strategy="likely_positive", queue_label="HS")
    for user in (a, b, c):
        Membership.objects.create(user=user, project=project, role=Role.ANNOTATOR)
    for item in synthetic_items(24, "binary", ("HS",), seed=8):
        make_example(project, item.text)
    transferred = make_version(previous, fitted(tmp_path / "previous", encoder))
    admin = api_client_for(owner)
    outsider = make_user("tr-outsider")
    Membership.objects.create(user=outsider, project=project, role=Role.ADMIN)
    refused = api_client_for(outsider).patch(f"/api/v1/projects/{project.pk}/",
                                             {"transfer_model_version": transferred.pk}, format="json")
    assert refused.status_code == 400 and "transfer_model_version" in refused.json()
    set_it = admin.patch(f"/api/v1/projects/{project.pk}/",
                         {"transfer_model_version": transferred.pk}, format="json")
    assert set_it.status_code == 200, set_it.content
    assert set_it.json()["transfer_model_version"] == transferred.pk

    def driven_by(version):
        def done():
            p = dict(Prediction.objects.filter(model_version=version, example__project=project)
                     .values_list("example_id", "scores"))
            stored = dict(Example.objects.filter(project=project).values_list("id", "al_score"))
            return len(p) == 24 and all(abs(stored[i] - s["HS"]) < 1e-9 for i, s in p.items())
        return done

    wait_for(driven_by(transferred), 240, "the transfer model's predictions and scores",
             celery_worker_process)
    got = api_client_for(a).post(f"/api/v1/projects/{project.pk}/queue/next").json()
    best = max(Prediction.objects.filter(model_version=transferred), key=lambda p: p.scores["HS"])
    assert got["id"] == best.example_id
    assert got["reason"].startswith(f"likely positive for HS (transferred model {transferred.pk}): ")
    page = api_client_for(a)
    page.force_login(a)
    html = page.get(f"/projects/{project.pk}/annotate/").content.decode()
    assert 'id="transfer-note"' in html and f"version {transferred.pk} of" in html
    assert "model says" in html  # the transfer model's suggestion is shown

    own = make_version(project, fitted(tmp_path / "own", encoder, flip=True))
    assert admin.post(f"/api/v1/models/{own.pk}/promote").status_code == 200
    wait_for(driven_by(own), 240, "the own model's predictions and scores", celery_worker_process)
    nxt = api_client_for(b).post(f"/api/v1/projects/{project.pk}/queue/next").json()
    best_own = max(Prediction.objects.filter(model_version=own).exclude(example_id=got["id"]),
                   key=lambda p: p.scores["HS"])
    assert nxt["id"] == best_own.example_id
    assert nxt["reason"].startswith("likely positive for HS: ")
    c_client = api_client_for(c)
    c_client.force_login(c)
    assert 'id="transfer-note"' not in c_client.get(f"/projects/{project.pk}/annotate/").content.decode()
