"""POST/GET /projects/{id}/embeddings, GET .../examples/{eid}/similar, POST .../search."""
from __future__ import annotations

import numpy as np
import pytest

from annotator.models import EmbeddingChunk, EmbeddingSet, Example
from annotator.normalize import content_hash, normalize
from annotator.services import embeddings as E
from annotator.services.embedding_storage import store_shard
from tests.models_zoo.tiny_hf import tiny_bert_dir


@pytest.fixture(scope="module")
def tiny_encoder() -> str:
    return str(tiny_bert_dir())


def add(project, text):
    clean = normalize(text, project.normalization)
    return Example.objects.create(project=project, text=text, normalized_text=clean,
                                  content_hash=content_hash(clean))


def hand_made_set(project, vectors):
    """A ready default-encoder set whose vectors are given (one per new example)."""
    examples = [add(project, f"example number {i}") for i in range(len(vectors))]
    s = EmbeddingSet.objects.create(project=project, encoder="default", state="ready", progress=1.0,
                                    count=len(examples), dim=len(vectors[0]))
    chunk = EmbeddingChunk.objects.create(embedding_set=s, example_ids=[e.pk for e in examples],
                                          state="ready", count=len(examples))
    chunk.shard = store_shard(E.storage_prefix(s), E.chunk_name(chunk.pk), [e.pk for e in examples],
                              np.asarray(vectors, dtype=np.float32))
    chunk.save(update_fields=["shard"])
    return s, examples


def url(project, rest=""):
    return f"/api/v1/projects/{project.pk}/{rest}"


def test_an_admin_starts_a_set_and_lists_it(owner_api, project):
    add(project, "flooding in the valley")
    response = owner_api.post(url(project, "embeddings"), {}, format="json")
    assert response.status_code == 202, response.content
    set_id = response.json()["embedding_set"]
    listed = owner_api.get(url(project, "embeddings")).json()
    assert listed == [{"id": set_id, "encoder": "default", "state": "queued", "progress": 0.0,
                       "count": 0, "dim": None, "dtype": "float32", "error": "",
                       "updated_at": listed[0]["updated_at"]}]
    # Asking again reuses the set (one per project and encoder).
    again = owner_api.post(url(project, "embeddings"), format="json")
    assert again.json()["embedding_set"] == set_id


def test_lower_roles_get_403_and_outsiders_404(annotator_api, viewer_api, outsider_api, project):
    s, examples = hand_made_set(project, [[1, 0], [0, 1]])
    for client, code in ((annotator_api, 403), (viewer_api, 403), (outsider_api, 404)):
        assert client.get(url(project, "embeddings")).status_code == code
        assert client.post(url(project, "embeddings"), format="json").status_code == code
        assert client.get(url(project, f"examples/{examples[0].pk}/similar")).status_code == code
        assert client.post(url(project, "search"), {"text": "x"}, format="json").status_code == code
    assert EmbeddingSet.objects.count() == 1


def test_bad_parameters_get_400_naming_the_field(owner_api, project):
    s, examples = hand_made_set(project, [[1, 0], [0, 1]])
    bad = owner_api.post(url(project, "embeddings"), {"encoder": "/no/such/dir"}, format="json")
    assert bad.status_code == 400 and "encoder" in bad.json()
    bad = owner_api.post(url(project, "embeddings"), {"encoder": 5}, format="json")
    assert bad.status_code == 400 and "encoder" in bad.json()
    bad = owner_api.post(url(project, "embeddings"), [1, 2], format="json")
    assert bad.status_code == 400
    similar = url(project, f"examples/{examples[0].pk}/similar")
    for k in ("0", "101", "abc", "2.5"):
        response = owner_api.get(similar, {"k": k})
        assert response.status_code == 400 and "k" in response.json(), k
    for body in ({}, {"text": ""}, {"text": 3}, {"text": "x" * 2001}):
        response = owner_api.post(url(project, "search"), body, format="json")
        assert response.status_code == 400 and "text" in response.json(), body
    response = owner_api.post(url(project, "search"), {"text": "ok", "k": True}, format="json")
    assert response.status_code == 400 and "k" in response.json()
    assert owner_api.get(url(project, "examples/999999/similar")).status_code == 404


def test_similar_ranks_hand_made_vectors_by_cosine_without_the_example_itself(owner_api, project):
    # Angles 0, 30, 90, 180 and 45 degrees from the first vector.
    c, s30 = np.cos(np.pi / 6), np.sin(np.pi / 6)
    _, ex = hand_made_set(project, [[1, 0], [c, s30], [0, 1], [-1, 0], [1, 1]])
    body = owner_api.get(url(project, f"examples/{ex[0].pk}/similar"), {"k": 3}).json()
    assert [r["example"] for r in body["results"]] == [ex[1].pk, ex[4].pk, ex[2].pk]
    assert [r["score"] for r in body["results"]] == pytest.approx([c, np.sqrt(0.5), 0.0], abs=1e-6)
    assert body["results"][0]["text"] == "example number 1"
    assert body["count"] == 3 and body["encoder"] == "default"
    # Default k=10 gives everything but the example itself; a deleted example is gone.
    ex[1].delete()
    body = owner_api.get(url(project, f"examples/{ex[0].pk}/similar")).json()
    assert [r["example"] for r in body["results"]] == [ex[4].pk, ex[2].pk, ex[3].pk]


def test_without_a_ready_set_similarity_is_a_409_that_says_what_to_do(owner_api, project):
    example = add(project, "a tweet")
    response = owner_api.get(url(project, f"examples/{example.pk}/similar"))
    assert response.status_code == 409
    assert "POST /api/v1/projects/" in response.json()["detail"]
    assert owner_api.post(url(project, "search"), {"text": "x"}, format="json").status_code == 409


def test_search_ranks_examples_by_similarity_to_a_free_text(owner_api, project, tiny_encoder,
                                                            django_capture_on_commit_callbacks):
    texts = ["flood water rising downtown", "cats sleeping on a sofa", "earthquake shook the city"]
    examples = [add(project, t) for t in texts]
    with django_capture_on_commit_callbacks(execute=False):
        s = E.request_embedding_set(project, tiny_encoder)
    E.embed_inline(s)
    body = owner_api.post(url(project, "search"),
                          {"text": "@someone cats sleeping on a sofa http://t.co/x", "k": 2,
                           "encoder": tiny_encoder}, format="json").json()
    # The query is normalised like the examples (mention and URL dropped): an exact match.
    assert body["results"][0]["example"] == examples[1].pk
    assert body["results"][0]["score"] == pytest.approx(1.0, abs=1e-5)
    assert len(body["results"]) == 2 and body["embedding_set"] == s.pk
    _, vecs = E.load_vectors(s)
    expected_second = examples[0].pk if vecs[1] @ vecs[0] > vecs[1] @ vecs[2] else examples[2].pk
    assert body["results"][1]["example"] == expected_second
