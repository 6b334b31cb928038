"""The storage layer (config/storage) on both backends: a local path and a real S3 API (moto's
standalone server, a separate process reached over HTTP)."""
from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.storage import (
    MANIFEST,
    ChecksumMismatch,
    ObjectMissing,
    Storage,
    check_key,
    parse_storage_url,
)
from tests.conftest import ROOT


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> Storage:
    """A Storage on each backend, with its own host cache."""
    if request.param == "local":
        return Storage(str(tmp_path / "store"), tmp_path / "cache")
    url = request.getfixturevalue("s3_store")
    return Storage(url, tmp_path / "cache")


def other_host(store: Storage, tmp_path: Path, name: str = "host-b") -> Storage:
    """The same store seen from another host: its own cache directory."""
    return Storage(store.url, tmp_path / name)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_file_round_trips_with_its_checksum(store, tmp_path):
    source = write(tmp_path / "src" / "a.bin", b"vectors" * 1000)
    sha = store.put_file(source, "embeddings/1/2/a.bin")
    assert sha == hashlib.sha256(b"vectors" * 1000).hexdigest()
    assert source.exists()  # copied, not moved
    got = other_host(store, tmp_path).get_file("embeddings/1/2/a.bin", sha)
    assert got.read_bytes() == b"vectors" * 1000
    assert store.exists("embeddings/1/2/a.bin") and not store.exists("embeddings/1/2/b.bin")


def test_a_directory_round_trips_and_its_manifest_is_written_last(store, tmp_path):
    source = tmp_path / "artifact"
    write(source / "manifest.json", b'{"backend": "x"}')
    write(source / "model" / "weights.safetensors", os.urandom(5000))
    checksum = store.put_dir(source, "7/12")
    assert store.list("7/12") == ["7/12/.vigia-manifest.json", "7/12/manifest.json",
                                  "7/12/model/weights.safetensors"]
    got = other_host(store, tmp_path).get_dir("7/12", checksum)
    for rel in ("manifest.json", "model/weights.safetensors"):
        assert (got / rel).read_bytes() == (source / rel).read_bytes()
    # The checksum names the manifest: another directory's checksum is refused.
    with pytest.raises(ChecksumMismatch, match="7/12"):
        other_host(store, tmp_path, "host-c").get_dir("7/12", "0" * 64)


def test_moving_a_file_in_hands_it_over_without_a_second_copy(store, tmp_path):
    source = write(tmp_path / "scratch" / "x.npy", b"123")
    sha = store.put_file(source, "embeddings/1/2/x.npy", move=True)
    assert not source.exists()
    # The writer's copy is this host's copy: readable even if the store lost it meanwhile.
    assert store.get_file("embeddings/1/2/x.npy", sha).read_bytes() == b"123"


def test_small_objects_are_rewritten_whole_and_read_fresh(store):
    store.put_bytes(b"first", "embeddings/1/2/map.json")
    store.put_bytes(b"second", "embeddings/1/2/map.json")
    assert store.read_bytes("embeddings/1/2/map.json") == b"second"
    with pytest.raises(ObjectMissing, match="embeddings/1/2/none.json"):
        store.read_bytes("embeddings/1/2/none.json")


def test_deleting_a_prefix_removes_its_objects_and_this_hosts_copies(store, tmp_path):
    for name in ("a", "b"):
        sha = store.put_file(write(tmp_path / name, name.encode()), f"3/9/{name}")
        store.get_file(f"3/9/{name}", sha)
    store.put_file(write(tmp_path / "keep", b"k"), "30/1/keep")
    store.delete_prefix("3")
    assert store.list("3") == [] and store.list() == ["30/1/keep"]  # "3" is not a prefix of "30"
    assert not (store.cache_dir / "3").exists()
    with pytest.raises(ObjectMissing):
        store.get_file("3/9/a")
    store.delete_prefix("never/written")  # absent is fine


def test_a_missing_object_is_named(store):
    with pytest.raises(ObjectMissing, match="'1/2/none'"):
        store.get_file("1/2/none")
    with pytest.raises(ObjectMissing, match="'1/none'"):
        store.get_dir("1/none", "0" * 64)


@pytest.mark.parametrize("key", ["", "/abs/path", "a/../b", "a//b", ".scratch/x", "a/./b"])
def test_keys_never_escape_the_store(key):
    with pytest.raises(ValueError, match="storage key"):
        check_key(key)


def test_storage_urls_are_a_path_or_s3():
    assert parse_storage_url("s3://bucket/some/prefix/") == ("s3", "bucket/some/prefix")
    assert parse_storage_url("/srv/vigia") == ("file", "/srv/vigia")
    assert parse_storage_url("file:///srv/vigia") == ("file", "/srv/vigia")
    with pytest.raises(ValueError, match="no bucket"):
        parse_storage_url("s3://")
    with pytest.raises(ValueError, match="gs://x.*path, file:// or s3://"):
        parse_storage_url("gs://x")


# --- the host cache (S3) --------------------------------------------------------------------
@pytest.fixture
def s3(s3_store, tmp_path) -> Storage:
    return Storage(s3_store, tmp_path / "writer-cache")


def downloads(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "downloaded" in r.getMessage()]


def test_a_host_downloads_an_object_once(s3, tmp_path, caplog):
    sha = s3.put_file(write(tmp_path / "v.npy", os.urandom(2048)), "embeddings/1/2/v.npy")
    reader = other_host(s3, tmp_path)
    caplog.set_level(logging.INFO, logger="config.storage")
    first = reader.get_file("embeddings/1/2/v.npy", sha)
    second = reader.get_file("embeddings/1/2/v.npy", sha)
    assert first == second == reader.cache_dir / "embeddings/1/2/v.npy"
    assert len(downloads(caplog)) == 1


def test_a_damaged_cached_copy_is_downloaded_again(s3, tmp_path, caplog):
    data = os.urandom(4096)
    sha = s3.put_file(write(tmp_path / "v.npy", data), "embeddings/1/2/v.npy")
    reader = other_host(s3, tmp_path)
    path = reader.get_file("embeddings/1/2/v.npy", sha)
    path.write_bytes(b"\0" * len(data))  # same size, other bytes (disk damage, a stray write)
    caplog.set_level(logging.INFO, logger="config.storage")
    caplog.clear()
    assert reader.get_file("embeddings/1/2/v.npy", sha).read_bytes() == data
    assert len(downloads(caplog)) == 1


def test_a_new_checksum_downloads_the_new_object_and_a_wrong_one_is_refused(s3, tmp_path):
    old = s3.put_file(write(tmp_path / "old", b"old bytes"), "9/1/model.bin")
    reader = other_host(s3, tmp_path)
    assert reader.get_file("9/1/model.bin", old).read_bytes() == b"old bytes"
    new = s3.put_file(write(tmp_path / "new", b"new bytes"), "9/1/model.bin")
    # The row now names the new checksum: the cached old copy no longer matches.
    assert reader.get_file("9/1/model.bin", new).read_bytes() == b"new bytes"
    # A row naming a checksum the store does not hold: refused, and nothing bad is cached.
    with pytest.raises(ChecksumMismatch, match="9/1/model.bin"):
        other_host(s3, tmp_path, "host-c").get_file("9/1/model.bin", old)
    assert not (tmp_path / "host-c" / "storage" / "9/1/model.bin").exists()


def test_a_directory_with_one_damaged_cached_file_fetches_that_file_again(s3, tmp_path, caplog):
    source = tmp_path / "artifact"
    write(source / "manifest.json", b"{}")
    write(source / "weights.bin", os.urandom(3000))
    checksum = s3.put_dir(source, "4/8")
    reader = other_host(s3, tmp_path)
    local = reader.get_dir("4/8", checksum)
    assert sorted(p.name for p in local.iterdir()) == [MANIFEST, "manifest.json", "weights.bin"]
    (local / "weights.bin").write_bytes(b"x")
    caplog.set_level(logging.INFO, logger="config.storage")
    caplog.clear()
    again = reader.get_dir("4/8", checksum)
    assert (again / "weights.bin").read_bytes() == (source / "weights.bin").read_bytes()
    assert downloads(caplog) == ["storage: downloaded 4/8/weights.bin (3000 bytes) into the cache"]


def test_pruning_keeps_only_the_named_copies(s3, tmp_path):
    reader = other_host(s3, tmp_path)
    for name in ("chunk-1", "chunk-2", "merged-1"):
        sha = s3.put_file(write(tmp_path / name, name.encode()), f"embeddings/1/2/{name}")
        reader.get_file(f"embeddings/1/2/{name}", sha)
    assert reader.prune_cache("embeddings/1/2", keep={"embeddings/1/2/merged-1"}) == 2
    left = sorted(p.name for p in (reader.cache_dir / "embeddings/1/2").iterdir())
    assert left == ["merged-1"]


def _settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.VIGIA_STORAGE_URL)")
    clean = {k: v for k, v in os.environ.items()
             if k not in {"VIGIA_STORAGE_URL", "VIGIA_ARTIFACTS_DIR"}}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True,
                          text=True)


def test_the_store_defaults_to_var_artifacts_and_reads_the_former_variable(tmp_path):
    assert _settings({"VIGIA_VAR_DIR": str(tmp_path)}).stdout.strip() == str(tmp_path / "artifacts")
    old = _settings({"VIGIA_VAR_DIR": str(tmp_path), "VIGIA_ARTIFACTS_DIR": "/srv/old"})
    assert old.stdout.strip() == "/srv/old"


def test_a_bad_storage_url_stops_the_process_naming_it(tmp_path):
    found = _settings({"VIGIA_VAR_DIR": str(tmp_path), "VIGIA_STORAGE_URL": "ftp://host/x"})
    assert found.returncode != 0
    assert "VIGIA_STORAGE_URL 'ftp://host/x'" in found.stderr
