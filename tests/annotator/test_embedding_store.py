"""The embedding store service on the tiny in-process encoder (chunks embedded inline)."""
from __future__ import annotations

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotator.models import EmbeddingChunk, EmbeddingSet, Example
from annotator.normalize import content_hash, normalize
from annotator.services import embeddings as E
from annotator.services.projects import ProjectRuleError
from config.storage import get_storage
from tests.models_zoo.tiny_hf import tiny_bert_dir


@pytest.fixture(scope="module")
def tiny_encoder() -> str:
    return str(tiny_bert_dir())


@pytest.fixture(autouse=True)
def small_chunks(settings, tmp_path):
    settings.VIGIA_EMBEDDING_CHUNK_SIZE = 3


def add_examples(project, texts):
    out = []
    for text in texts:
        clean = normalize(text, project.normalization)
        out.append(Example.objects.create(project=project, text=text, normalized_text=clean,
                                          content_hash=content_hash(clean)))
    return out


TEXTS = ["flood water rising downtown", "earthquake shook the city", "lovely sunny picnic",
         "the river burst its banks", "cats sleeping on a sofa", "@bob storm warning http://x.y"]


def test_a_request_splits_the_project_into_chunks_and_inline_embedding_makes_it_ready(
    project, tiny_encoder, django_capture_on_commit_callbacks
):
    examples = add_examples(project, TEXTS)
    # The broker is not involved: the on-commit enqueue is captured, not executed.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        s = E.request_embedding_set(project, tiny_encoder)
    assert len(callbacks) == 1
    assert s.state == "queued" and s.progress == 0.0
    chunks = list(s.chunks.order_by("pk"))
    assert [c.example_ids for c in chunks] == [[e.pk for e in examples[:3]], [e.pk for e in examples[3:]]]
    assert E.ready_embedding_set(project, tiny_encoder) is None

    assert E.embed_chunk(chunks[0].pk) == 3
    s.refresh_from_db()
    assert (s.state, s.progress, s.count) == ("running", 0.5, 3)
    E.embed_chunk(chunks[1].pk)
    s.refresh_from_db()
    assert (s.state, s.progress, s.count) == ("ready", 1.0, 6)
    assert s.dim == E.encode_sentences_for(tiny_encoder, ["x"]).shape[1]
    assert E.ready_embedding_set(project, tiny_encoder) == s
    # Idempotent: a ready chunk with its shard is not embedded again.
    assert E.embed_chunk(chunks[0].pk) == 0

    ids, vecs = E.load_vectors(s)
    assert ids.tolist() == [e.pk for e in examples]
    assert vecs.dtype == np.float32 and vecs.shape == (6, s.dim)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    # The same text through encode_texts (a query) gives the stored vector: same normalisation
    # (the mention and URL are stripped) and the same encoder.
    query = E.encode_texts(project, [TEXTS[5]], tiny_encoder)
    np.testing.assert_allclose(query[0], vecs[5], atol=1e-5)
    # In the asked order.
    ids2, vecs2 = E.load_vectors(s, [examples[4].pk, examples[0].pk])
    assert ids2.tolist() == [examples[4].pk, examples[0].pk]
    np.testing.assert_allclose(vecs2, vecs[[4, 0]])


def test_deleted_examples_are_never_returned_and_new_imports_get_new_chunks_only(
    project, tiny_encoder, django_capture_on_commit_callbacks
):
    examples = add_examples(project, TEXTS[:4])
    with django_capture_on_commit_callbacks(execute=False):
        s = E.request_embedding_set(project, tiny_encoder)
    E.embed_inline(s)
    gone = examples[1].pk
    examples[1].delete()
    s.refresh_from_db()
    assert s.deletions == 1  # counted in the deleting transaction: readers filter again
    ids, _ = E.load_vectors(s)
    assert ids.tolist() == [examples[0].pk, examples[2].pk, examples[3].pk]
    with pytest.raises(E.MissingVectors, match=f"1 example.*: {gone}$"):
        E.load_vectors(s, [examples[0].pk, gone])

    more = add_examples(project, TEXTS[4:])
    with django_capture_on_commit_callbacks(execute=False):
        s = E.request_embedding_set(project, tiny_encoder)
    assert EmbeddingChunk.objects.filter(embedding_set=s).count() == 3
    assert s.chunks.order_by("-pk").first().example_ids == [e.pk for e in more]
    # Updating, but still usable: the earlier vectors serve while the new chunk runs.
    assert s.state == "running" and s.progress == pytest.approx(2 / 3)
    assert E.ready_embedding_set(project, tiny_encoder) == s
    E.embed_inline(s)
    ids, _ = E.load_vectors(s)
    assert ids.tolist() == [examples[0].pk, examples[2].pk, examples[3].pk] + [e.pk for e in more]
    assert EmbeddingSet.objects.filter(project=project).count() == 1


def test_a_failing_chunk_marks_the_set_failed_and_a_new_request_retries_it(
    project, tmp_path, django_capture_on_commit_callbacks
):
    add_examples(project, TEXTS[:2])
    broken = tmp_path / "not-a-model"
    broken.mkdir()
    with django_capture_on_commit_callbacks(execute=False):
        s = E.request_embedding_set(project, str(broken))
    E.embed_inline(s)
    assert s.state == "failed" and s.error.startswith("chunk ")
    assert s.chunks.get().state == "failed"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        s = E.request_embedding_set(project, str(broken))
    assert s.state == "queued" and s.chunks.get().state == "queued" and len(callbacks) == 1


def test_a_missing_encoder_directory_is_refused_naming_the_field(project):
    with pytest.raises(ProjectRuleError) as info:
        E.request_embedding_set(project, "/nowhere/model")
    assert info.value.field == "encoder"
    assert E.check_encoder(None) == "default" and E.check_encoder("") == "default"


def test_cached_or_encoded_takes_stored_rows_and_encodes_only_the_rest(
    project, tiny_encoder, django_capture_on_commit_callbacks
):
    examples = add_examples(project, TEXTS[:3])
    with django_capture_on_commit_callbacks(execute=False):
        s = E.request_embedding_set(project, tiny_encoder)
    E.embed_inline(s)
    extra = add_examples(project, TEXTS[3:4])[0]
    _, stored = E.load_vectors(s)
    asked: list[list[str]] = []

    def encode(texts):
        asked.append(texts)
        return E.encode_sentences_for(tiny_encoder, texts)

    ids = [examples[2].pk, extra.pk, examples[0].pk]
    vecs, from_store = E.cached_or_encoded(project, tiny_encoder, ids, ["c", TEXTS[3], "a"], encode)
    assert from_store == 2 and asked == [[TEXTS[3]]]
    np.testing.assert_allclose(vecs[[0, 2]], stored[[2, 0]])
    np.testing.assert_allclose(vecs[1], E.encode_sentences_for(tiny_encoder, [TEXTS[3]])[0], atol=1e-6)


def test_an_import_adds_chunks_to_existing_sets_and_an_edit_reembeds_the_example(
    project, tiny_encoder, django_capture_on_commit_callbacks
):
    import io

    from annotator.importers.service import import_file
    from annotator.services.example_edits import create_example, update_example

    # Without a set an import starts nothing (nobody asked for vectors).
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        import_file(project, io.BytesIO(b"text\nfirst tweet here\nsecond tweet here\n"), "csv")
    assert not EmbeddingSet.objects.exists() and callbacks == []

    with django_capture_on_commit_callbacks(execute=False):
        s = E.request_embedding_set(project, tiny_encoder)
    E.embed_inline(s)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        import_file(project, io.BytesIO(b"text\nthird tweet here\nfirst tweet here\n"), "csv")
    assert len(callbacks) == 1
    newest = s.chunks.order_by("-pk").first()
    third = Example.objects.get(text="third tweet here")
    assert newest.example_ids == [third.pk] and newest.state == "queued"

    with django_capture_on_commit_callbacks(execute=False):
        added = create_example(project, "a fourth one by hand")
    assert s.chunks.order_by("-pk").first().example_ids == [added.pk]
    E.embed_inline(s)
    first = Example.objects.get(text="first tweet here")
    before = E.load_vectors(s, [first.pk])[1][0].copy()
    with django_capture_on_commit_callbacks(execute=False):
        update_example(first, text="an entirely different text about storms")
    # Until its new chunk is done the old vector serves; then the new one does.
    np.testing.assert_allclose(E.load_vectors(s, [first.pk])[1][0], before)
    E.embed_inline(s)
    after = E.load_vectors(s, [first.pk])[1][0]
    expected = E.encode_texts(project, ["an entirely different text about storms"], tiny_encoder)[0]
    np.testing.assert_allclose(after, expected, atol=1e-5)
    ids, _ = E.load_vectors(s)
    assert len(ids) == Example.objects.filter(project=project).count() == 4


def test_deleting_a_project_removes_its_shard_files(project, tiny_encoder, django_capture_on_commit_callbacks):
    add_examples(project, TEXTS[:2])
    s = E.request_embedding_set(project, tiny_encoder, enqueue=False)
    E.embed_inline(s)
    prefix = E.storage_prefix(s)
    assert any(key.endswith(".npy") for key in get_storage().list(prefix))
    with django_capture_on_commit_callbacks(execute=True):
        project.delete()
    assert get_storage().list(prefix) == []


def shard_objects(record):
    """The two storage keys of a shard record."""
    return sorted(f"{record['prefix']}/{record['name']}.{part}.npy" for part in ("ids", "vectors"))


def test_a_ready_set_is_merged_into_one_mapped_shard_and_its_chunk_shards_are_deleted(
    project, tiny_encoder, monkeypatch, django_capture_on_commit_callbacks
):
    examples = add_examples(project, TEXTS[:5])
    s = E.request_embedding_set(project, tiny_encoder, enqueue=False)
    assert s.chunks.count() == 2
    with django_capture_on_commit_callbacks(execute=True):  # replaced shards go on commit
        E.embed_inline(s)
    s.refresh_from_db()
    prefix = E.storage_prefix(s)
    merged = s.merged
    assert set(merged["chunks"]) == set(s.chunks.values_list("pk", flat=True))
    assert len(merged["ids"]) == len(merged["vectors"]) == 64  # sha256 of both files
    # The store holds each vector once: the chunk shards went once merged.
    assert get_storage().list(prefix) == shard_objects({"prefix": prefix, **merged})
    with CaptureQueriesContext(connection) as queries:
        ids, vecs = E.load_vectors(s)
    assert isinstance(vecs, np.memmap) and not vecs.flags.writeable  # mapped, not copied
    # Nothing was deleted since the merge: no query for the live example ids.
    assert not any("ORDER BY id" in q["sql"] for q in queries.captured_queries)
    assert ids.tolist() == [e.pk for e in examples]
    expected = E.encode_texts(project, TEXTS[:5], tiny_encoder)
    np.testing.assert_allclose(vecs, expected, atol=1e-5)

    # A new example's chunk is read next to the merged shard until the set is merged again.
    [extra] = add_examples(project, TEXTS[5:])
    s = E.request_embedding_set(project, tiny_encoder, enqueue=False)
    newest = s.chunks.order_by("-pk").first()
    with monkeypatch.context() as patched:
        patched.setattr(E, "merge_ready_chunks", lambda es: 0)
        E.embed_chunk(newest.pk)
    newest.refresh_from_db()
    assert newest.shard["name"].startswith(f"chunk-{newest.pk}-")
    ids, vecs = E.load_vectors(s)
    assert ids.tolist() == [e.pk for e in examples] + [extra.pk]
    beside = vecs.copy()

    with django_capture_on_commit_callbacks(execute=True):
        assert E.merge_ready_chunks(s) == 6
    s.refresh_from_db()
    assert s.merged["name"] != merged["name"] and newest.pk in s.merged["chunks"]
    assert get_storage().list(prefix) == shard_objects({"prefix": prefix, **s.merged})
    ids2, vecs2 = E.load_vectors(s)
    assert ids2.tolist() == ids.tolist()
    np.testing.assert_allclose(vecs2, beside)


def test_a_redelivered_chunk_keeps_the_first_recorded_shard(project, tiny_encoder):
    add_examples(project, TEXTS[:2])
    s = E.request_embedding_set(project, tiny_encoder, enqueue=False)
    [chunk] = s.chunks.all()
    assert E.embed_chunk(chunk.pk) == 2
    chunk.refresh_from_db()
    first = dict(chunk.shard)
    assert E.embed_chunk(chunk.pk) == 0  # ready: a redelivered task returns at once
    chunk.refresh_from_db()
    assert chunk.shard == first
