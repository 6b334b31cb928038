"""The services on an S3 store (moto's standalone server): a model version, an embedding set and
an encoder export written on one host are read on another (another cache directory), checked
against the checksums on their rows; deletions reach the bucket; the migration turns host paths
into keys."""
from __future__ import annotations

import importlib
import logging

import numpy as np
import pytest
from django.apps import apps as django_apps

from annotator.models import Example
from annotator.normalize import content_hash, normalize
from annotator.services import embeddings as E
from config.storage import MANIFEST, get_storage
from models_zoo.backends import _encoders
from models_zoo.backends.base import Item
from models_zoo.models import ModelVersion
from models_zoo.services.artifact_storage import local_artifact, save_artifact
from models_zoo.serving import ModelCache
from tests.models_zoo.tiny_embedding_head import make_case
from tests.models_zoo.tiny_hf import tiny_bert_dir

pytestmark = pytest.mark.django_db

TEXTS = ["flood water rising downtown", "earthquake shook the city", "lovely sunny picnic",
         "the river burst its banks", "cats sleeping on a sofa"]


def as_host(settings, tmp_path, name: str) -> None:
    """Continue as another host: same store and database, its own cache directory."""
    settings.VIGIA_CACHE_DIR = tmp_path / name


def fitted_version(project, tmp_path, key: str) -> ModelVersion:
    backend, train, validation, _ = make_case(tmp_path)
    backend.fit(train, validation)
    checksum = save_artifact(backend, key)
    return ModelVersion.objects.create(project=project, backend=backend.name, artifact_dir=key,
                                       artifact_checksum=checksum, labels=list(backend.labels),
                                       config=backend.config.model_dump(mode="json"), is_current=True)


def test_a_version_trained_on_one_host_is_served_from_another(s3_store, project, settings, tmp_path):
    version = fitted_version(project, tmp_path, f"{project.pk}/1")
    assert get_storage().exists(f"{project.pk}/1/{MANIFEST}")
    as_host(settings, tmp_path, "web-host")
    loaded = ModelCache().current(project.pk)
    cached = tmp_path / "web-host" / "storage" / str(project.pk) / "1"
    assert (cached / "manifest.json").is_file()
    scores = loaded.predict([Item(text="hate vermin disgusting")])[0].scores
    assert set(scores) == {"HS", "TR", "AG"}
    # A damaged cached file is fetched again before the next process loads the version.
    weights = next(p for p in cached.rglob("*.safetensors"))
    weights.write_bytes(b"damaged")
    again = ModelCache().current(project.pk)
    assert again.predict([Item(text="hate vermin disgusting")])[0].scores == pytest.approx(scores)
    assert version.artifact_dir == f"{project.pk}/1"


def test_deleting_a_project_deletes_its_versions_and_sets_in_the_bucket(
    s3_store, project, settings, tmp_path, django_capture_on_commit_callbacks
):
    fitted_version(project, tmp_path, f"{project.pk}/1")
    storage = get_storage()
    storage.put_bytes(b"left by a failed run", f"{project.pk}/2/partial.bin")
    storage.put_bytes(b"x", f"embeddings/{project.pk}/99/chunk-1-ab.ids.npy")
    assert storage.list(str(project.pk))
    with django_capture_on_commit_callbacks(execute=True):
        project.delete()
    assert storage.list(str(project.pk)) == [] and storage.list(f"embeddings/{project.pk}") == []


def add(project, text: str) -> Example:
    clean = normalize(text, project.normalization)
    return Example.objects.create(project=project, text=text, normalized_text=clean,
                                  content_hash=content_hash(clean))


def test_an_embedding_set_written_on_one_host_is_read_on_another(
    s3_store, project, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.VIGIA_EMBEDDING_CHUNK_SIZE = 2
    encoder = str(tiny_bert_dir())
    examples = [add(project, t) for t in TEXTS]
    s = E.request_embedding_set(project, encoder, enqueue=False)
    with django_capture_on_commit_callbacks(execute=True):
        E.embed_inline(s)
    s.refresh_from_db()
    assert s.state == "ready" and set(s.merged["chunks"]) == set(s.chunks.values_list("pk", flat=True))
    prefix = E.storage_prefix(s)
    # Only the merged shard is left in the bucket: chunk shards do not double the store.
    assert [k.rsplit("/", 1)[1] for k in get_storage().list(prefix)] == [
        f"{s.merged['name']}.ids.npy", f"{s.merged['name']}.vectors.npy"]
    expected = E.encode_texts(project, TEXTS, encoder)

    as_host(settings, tmp_path, "web-host")
    ids, vectors = E.load_vectors(s)
    assert ids.tolist() == [e.pk for e in examples]
    assert isinstance(vectors, np.memmap)  # mapped from this host's cached copy
    assert str(vectors.filename).startswith(str(tmp_path / "web-host"))
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    # A changed cached shard no longer matches its row's checksum: downloaded again.
    cached = tmp_path / "web-host" / "storage" / prefix / f"{s.merged['name']}.vectors.npy"
    data = bytearray(cached.read_bytes())
    data[-4:] = b"\0\0\0\0"
    cached.write_bytes(bytes(data))
    np.testing.assert_allclose(E.load_vectors(s)[1], expected, atol=1e-5)


def test_an_encoder_export_made_on_one_host_is_fetched_by_another(
    s3_store, settings, tmp_path, monkeypatch, caplog
):
    monkeypatch.delenv("VIGIA_ENCODER_CACHE_DIR", raising=False)  # each host its own cache
    settings.VIGIA_ENCODER_CACHE_DIR = None
    encoder = str(tiny_bert_dir())
    _encoders.clear_cache()
    caplog.set_level(logging.INFO)
    first = _encoders.encode_sentences(encoder, TEXTS, engine="onnx", device="cpu")
    assert any("exported ONNX export" in r.getMessage() for r in caplog.records)
    published = [k for k in get_storage().list("encoders") if k.endswith("model.onnx")]
    assert len(published) == 1

    as_host(settings, tmp_path, "other-host")
    _encoders.clear_cache()
    caplog.clear()
    second = _encoders.encode_sentences(encoder, TEXTS, engine="onnx", device="cpu")
    assert any("fetched the published ONNX export" in r.getMessage() for r in caplog.records)
    assert (tmp_path / "other-host" / "encoders").is_dir()
    np.testing.assert_allclose(second, first, atol=1e-6)
    _encoders.clear_cache()


def test_the_migration_turns_host_paths_under_the_old_directory_into_keys(
    project, settings, tmp_path, monkeypatch
):
    migration = importlib.import_module("models_zoo.migrations.0005_artifact_storage_keys")
    old = tmp_path / "var" / "artifacts"
    monkeypatch.setenv("VIGIA_ARTIFACTS_DIR", str(old))
    settings.VIGIA_STORAGE_URL = str(old)  # the default: the store is the former directory
    backend, train, validation, _ = make_case(tmp_path)
    backend.fit(train, validation)
    backend.save(old / str(project.pk) / "5")
    on_host = ModelVersion.objects.create(project=project, backend=backend.name, labels=["HS"],
                                          artifact_dir=str(old / str(project.pk) / "5"))
    elsewhere = ModelVersion.objects.create(project=project, backend=backend.name, labels=["HS"],
                                            artifact_dir="/somewhere/else/7")
    migration.paths_to_keys(django_apps, None)
    on_host.refresh_from_db()
    elsewhere.refresh_from_db()
    assert on_host.artifact_dir == f"{project.pk}/5" and len(on_host.artifact_checksum) == 64
    assert local_artifact(on_host.artifact_dir, on_host.artifact_checksum) == old / str(project.pk) / "5"
    assert elsewhere.artifact_dir == "/somewhere/else/7"  # left as it was, and listed


def test_the_migration_uploads_old_artifacts_when_the_store_is_s3(
    s3_store, project, settings, tmp_path, monkeypatch
):
    migration = importlib.import_module("models_zoo.migrations.0005_artifact_storage_keys")
    old = tmp_path / "var" / "artifacts"
    monkeypatch.setenv("VIGIA_ARTIFACTS_DIR", str(old))
    backend, train, validation, _ = make_case(tmp_path)
    backend.fit(train, validation)
    backend.save(old / str(project.pk) / "5")
    version = ModelVersion.objects.create(project=project, backend=backend.name, labels=["HS"],
                                          artifact_dir=str(old / str(project.pk) / "5"))
    migration.paths_to_keys(django_apps, None)
    version.refresh_from_db()
    assert version.artifact_dir == f"{project.pk}/5"
    as_host(settings, tmp_path, "web-host")
    local = local_artifact(version.artifact_dir, version.artifact_checksum)
    assert str(local).startswith(str(tmp_path / "web-host"))
    assert (local / "manifest.json").read_bytes() == (old / str(project.pk) / "5" / "manifest.json").read_bytes()


def test_deleting_a_version_deletes_only_its_artifact(
    s3_store, project, settings, tmp_path, django_capture_on_commit_callbacks
):
    old = fitted_version(project, tmp_path / "a", f"{project.pk}/1")
    old.is_current = False
    old.save(update_fields=["is_current"])
    kept = fitted_version(project, tmp_path / "b", f"{project.pk}/2")
    with django_capture_on_commit_callbacks(execute=True):
        old.delete()
    assert get_storage().list(f"{project.pk}/1") == []
    assert get_storage().exists(f"{kept.artifact_dir}/{MANIFEST}")
