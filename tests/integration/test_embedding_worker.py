"""The embedding job on a real Celery worker (real Redis, real worker process, tiny encoder)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from annotator.models import EmbeddingSet, Example
from annotator.normalize import content_hash, normalize
from annotator.services import embeddings as E
from tests.models_zoo.tiny_hf import tiny_bert_dir

pytestmark = pytest.mark.integration

TEXTS = ["flood water rising downtown", "earthquake shook the city", "lovely sunny picnic",
         "the river burst its banks", "cats sleeping on a sofa", "storm warning for the coast",
         "power is out across the county"]


def wait_for(predicate, timeout, what, worker):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker.poll() is not None:
            pytest.fail(f"worker died while waiting for {what}: {worker.log_path.read_text()[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout}s waiting for {what}: {worker.log_path.read_text()[-3000:]}")


def test_chunks_are_embedded_by_a_real_worker_and_the_set_becomes_ready(
    celery_worker_process, owner_api, project, settings, tmp_path
):
    settings.VIGIA_EMBEDDING_CHUNK_SIZE = 3
    encoder = str(tiny_bert_dir())
    for text in TEXTS:
        clean = normalize(text, project.normalization)
        Example.objects.create(project=project, text=text, normalized_text=clean,
                               content_hash=content_hash(clean))
    started = owner_api.post(f"/api/v1/projects/{project.pk}/embeddings", {"encoder": encoder},
                             format="json")
    assert started.status_code == 202, started.content
    set_id = started.json()["embedding_set"]
    assert EmbeddingSet.objects.get(pk=set_id).chunks.count() == 3

    def state():
        return owner_api.get(f"/api/v1/projects/{project.pk}/embeddings").json()[0]

    wait_for(lambda: state()["state"] in ("ready", "failed"), 180, "the embedding set",
             celery_worker_process)
    final = state()
    assert final["state"] == "ready", final["error"]
    assert (final["progress"], final["count"]) == (1.0, 7) and final["dim"] > 0
    log = celery_worker_process.log_path.read_text()
    assert log.count("vigia.embed_chunk") >= 3

    # The worker's vectors are the ones this process computes for the same texts.
    s = EmbeddingSet.objects.get(pk=set_id)
    ids, vectors = E.load_vectors(s)
    assert ids.tolist() == sorted(Example.objects.values_list("pk", flat=True))
    expected = E.encode_texts(project, TEXTS, encoder)
    np.testing.assert_allclose(vectors, expected, atol=1e-5)

    similar = owner_api.get(f"/api/v1/projects/{project.pk}/examples/{ids[0]}/similar",
                            {"k": 2, "encoder": encoder})
    assert similar.status_code == 200, similar.content
    assert len(similar.json()["results"]) == 2
    assert ids[0] not in [r["example"] for r in similar.json()["results"]]
