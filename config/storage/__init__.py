"""Shared storage: where model artifacts, embedding shards and encoder exports live for every host.

`VIGIA_STORAGE_URL` is a path (default `$VIGIA_VAR_DIR/artifacts`) or `s3://bucket/prefix` on any
S3 API (AWS S3, MinIO, Ceph RGW; the endpoint from `AWS_ENDPOINT_URL`, the credentials from the
standard AWS variables). Callers address objects by *key*, a relative path under the store's root
(`3/17/manifest.json`, `embeddings/3/5/chunk-9-1a2b.ids.npy`), never by a host's absolute path.

Why fsspec + s3fs rather than django-storages + boto3: what we store are directories and
memory-mapped numpy files handled by services, Celery workers and (through a callback) Django-free
backends, not `FileField` uploads; django-storages' `Storage` API is built around model file
fields, names files it picks itself and has no directory or "download to a local path" notion,
while fsspec gives one small filesystem interface (`put_file`, `get_file`, `find`, `rm`) over a
local path and any S3 API, which is the same code path for both backends here. fsspec is already
installed (torch and the HF libraries depend on it) and s3fs is its S3 implementation; s3fs tests
itself against moto's standalone server, as our suite does.

Rules every caller can rely on:
- Writers upload whole objects. A local store writes a temporary name in the target directory and
  renames it; S3 makes an object visible only when its single PUT (or multipart upload) completes.
  `put_dir` writes a manifest (`.vigia-manifest.json`: every file's size and sha256) last, and its
  checksum (sha256 of the manifest) is what the caller stores on its row: an object or directory
  that a row names is complete.
- Readers get a local path. A local store is read in place (nothing is copied: on one host, or on
  a shared mount, that is the object itself). From S3 a host downloads an object once into its
  cache (`$VIGIA_VAR_DIR/cache/storage/<key>`), checks it against the checksum the caller stored,
  and downloads it again when the cached copy no longer matches (another checksum, or its size or
  modification time changed since it was verified). Downloads go to a temporary name and are
  renamed, under a per-key file lock, so two processes of one host never clash.
"""
from __future__ import annotations

import os
import threading
from typing import Any

from config.storage.keys import (
    MANIFEST,
    ChecksumMismatch,
    ObjectMissing,
    StorageError,
    check_key,
    directory_manifest,
    parse_storage_url,
    sha256_file,
)
from config.storage.store import Storage

_instances: dict[tuple[Any, ...], Storage] = {}
_instances_lock = threading.Lock()


def get_storage() -> Storage:
    """The store named by `settings.VIGIA_STORAGE_URL`, with this host's cache under
    `settings.VIGIA_CACHE_DIR`. One instance per process and configuration (a forked worker
    builds its own: s3fs's event loop does not survive a fork)."""
    from django.conf import settings

    url, cache = str(settings.VIGIA_STORAGE_URL), str(settings.VIGIA_CACHE_DIR)
    env = tuple(os.environ.get(v) for v in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID"))
    key = (url, cache, os.getpid(), env)
    with _instances_lock:
        storage = _instances.get(key)
        if storage is None:
            storage = _instances[key] = Storage(url, cache)
    return storage


__all__ = [
    "MANIFEST", "ChecksumMismatch", "ObjectMissing", "Storage", "StorageError", "check_key",
    "directory_manifest", "get_storage", "parse_storage_url", "sha256_file",
]
