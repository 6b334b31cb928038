"""The embeddings page, its polling partial, "compute embeddings" and the example page."""
from __future__ import annotations

import numpy as np

from annotator.models import EmbeddingChunk, EmbeddingSet
from annotator.services import embeddings as E
from annotator.services.embedding_storage import store_shard
from tests.web.helpers import HTMX, add_examples, client_for


def ready_set(project, vectors):
    examples = add_examples(project, [f"tweet number {i}" for i in range(len(vectors))])
    s = EmbeddingSet.objects.create(project=project, state="ready", progress=1.0, count=len(examples),
                                    dim=len(vectors[0]))
    chunk = EmbeddingChunk.objects.create(embedding_set=s, example_ids=[e.pk for e in examples],
                                          state="ready", count=len(examples))
    chunk.shard = store_shard(E.storage_prefix(s), E.chunk_name(chunk.pk), [e.pk for e in examples],
                              np.asarray(vectors, dtype=np.float32))
    chunk.save(update_fields=["shard"])
    return s, examples


def test_only_admins_see_the_embedding_pages(project, owner, annotator_user, outsider):
    _, examples = ready_set(project, [[1, 0], [0, 1]])
    for path in (f"/projects/{project.pk}/embeddings/", f"/projects/{project.pk}/examples/{examples[0].pk}/"):
        assert client_for(owner).get(path).status_code == 200
        assert client_for(annotator_user).get(path).status_code == 403
        assert client_for(outsider).get(path).status_code == 404
    assert client_for(annotator_user).post(f"/projects/{project.pk}/embeddings/compute/").status_code == 403
    page = client_for(owner).get(f"/projects/{project.pk}/").content.decode()
    assert f'href="/projects/{project.pk}/embeddings/"' in page


def test_compute_starts_a_set_and_the_partial_polls_until_it_is_done(
    project, owner, django_capture_on_commit_callbacks
):
    add_examples(project, ["one tweet", "another tweet"])
    client = client_for(owner)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/projects/{project.pk}/embeddings/compute/", follow=True)
    assert len(callbacks) == 1
    body = response.content.decode()
    assert "Computing embeddings (default): 1 chunk(s) to embed." in body
    assert "Queued" in body and 'hx-trigger="every 2s"' in body
    partial = client.get(f"/projects/{project.pk}/embeddings/sets/", **HTMX)
    assert partial.status_code == 200
    EmbeddingSet.objects.update(state="ready", progress=1.0)
    partial = client.get(f"/projects/{project.pk}/embeddings/sets/", **HTMX)
    assert partial.status_code == 286 and "Ready" in partial.content.decode()


def test_a_bad_encoder_is_reported_on_the_page(project, owner):
    response = client_for(owner).post(f"/projects/{project.pk}/embeddings/compute/",
                                      {"encoder": "/no/such/model"}, follow=True)
    page = response.content.decode()
    # The refusal does not say whether the path exists (models_zoo.model_roots).
    assert "encoder: &#x27;/no/such/model&#x27; is not a registered model name" in page
    assert "does not exist" not in page
    assert not EmbeddingSet.objects.exists()


def test_the_example_page_lists_more_like_this_by_cosine(project, owner):
    c = np.cos(np.pi / 6)
    _, ex = ready_set(project, [[1, 0], [0, 1], [c, 0.5]])
    body = client_for(owner).get(f"/projects/{project.pk}/examples/{ex[0].pk}/").content.decode()
    assert body.index("tweet number 2") < body.index("tweet number 1")
    assert "0.866" in body and "0.000" in body
    assert f'href="/projects/{project.pk}/examples/{ex[2].pk}/"' in body


def test_without_embeddings_the_pages_say_what_to_do(project, owner):
    [example] = add_examples(project, ["lonely tweet"])
    client = client_for(owner)
    body = client.get(f"/projects/{project.pk}/examples/{example.pk}/").content.decode()
    assert "no ready embeddings" in body and "Compute embeddings" in body
    response = client.get(f"/projects/{project.pk}/embeddings/", {"q": "anything"})
    assert response.status_code == 400 and "no ready embeddings" in response.content.decode()
    response = client.get(f"/projects/{project.pk}/embeddings/", {"q": "x", "k": "0"})
    assert response.status_code == 400 and "k: must be between 1 and 100" in response.content.decode()
