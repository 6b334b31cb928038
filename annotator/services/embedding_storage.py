"""Embedding shards in the shared storage (config/storage): written by any worker, read by any host.

A shard (see embedding_shards: an ids `.npy` and a vectors `.npy`) is built in a scratch
directory and uploaded whole under `embeddings/<project>/<set>/<name>.{ids,vectors}.npy`; its
name carries a random suffix, so an object is written once and never overwritten (a redelivered
chunk task writes a new name, and only the attempt that commits is recorded). The row that
names a shard (an EmbeddingChunk's `shard`, the set's `merged`) also records both files'
sha256, and is committed after the upload: a shard a row names is complete. Readers memory-map
the local copy: the store itself (a path) or this host's verified cached copy (S3).
"""
from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from typing import Any

import numpy as np

from annotator.services import embedding_shards as shards
from config.storage import get_storage

logger = logging.getLogger(__name__)


def set_prefix(project_id: int, set_id: int) -> str:
    return f"embeddings/{int(project_id)}/{int(set_id)}"


def chunk_name(chunk_id: int) -> str:
    """The name of a chunk's shard before names got a random suffix (still read)."""
    return f"chunk-{chunk_id}"


def shard_record(chunk_id: int, shard: dict[str, Any] | None) -> dict[str, Any]:
    """A chunk's shard record; chunks stored before records existed are `chunk-<id>` with no
    checksum (read unverified)."""
    return dict(shard) if shard and shard.get("name") else {"name": chunk_name(chunk_id)}


def shard_keys(prefix: str, name: str) -> tuple[str, str]:
    """The keys of a shard's two files (named as embedding_shards.shard_paths names them)."""
    return f"{prefix}/{name}.ids.npy", f"{prefix}/{name}.vectors.npy"


def store_shard(prefix: str, name: str, ids: Sequence[int], vectors: np.ndarray,
                dtype: str = "float32", normalise: bool = True) -> dict[str, Any]:
    """Write and upload one shard; returns its record {name, ids: sha256, vectors: sha256}.
    This host keeps the files as its cached copy."""
    storage = get_storage()
    scratch = storage.scratch_dir()
    try:
        shards.write_shard(scratch, name, ids, vectors, dtype=dtype, normalise=normalise)
        ids_path, vec_path = shards.shard_paths(scratch, name)
        ids_key, vec_key = shard_keys(prefix, name)
        vec_sha = storage.put_file(vec_path, vec_key, move=True)
        ids_sha = storage.put_file(ids_path, ids_key, move=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"name": name, "ids": ids_sha, "vectors": vec_sha}


def open_shard(prefix: str, record: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of a stored shard, memory-mapped read-only from this host's copy.
    config.storage.ObjectMissing when the shard is gone (merged away meanwhile)."""
    storage = get_storage()
    ids_key, vec_key = shard_keys(prefix, record["name"])
    ids_path = storage.get_file(ids_key, record.get("ids"))
    vec_path = storage.get_file(vec_key, record.get("vectors"))
    return np.load(ids_path, mmap_mode="r"), np.load(vec_path, mmap_mode="r")


def delete_shards(prefix: str, records: Sequence[dict[str, Any]]) -> None:
    """Delete shards' objects (merged into a newer shard, or a losing attempt's upload)."""
    storage = get_storage()
    for record in records:
        for key in shard_keys(prefix, record["name"]):
            try:
                storage.delete(key)
            except Exception:  # an orphan costs disk, never correctness: rows no longer name it
                logger.exception("could not delete %s", key)


def keep_only_in_cache(prefix: str, records: Sequence[dict[str, Any]]) -> None:
    """This host's cache keeps only the shards the set reads now (after a merge)."""
    keep = {key for record in records for key in shard_keys(prefix, record["name"])}
    get_storage().prune_cache(prefix, keep=keep)


_seen_merges: dict[int, str] = {}


def forget_replaced_in_cache(set_id: int, prefix: str, merged_name: str | None,
                             records: Sequence[dict[str, Any]]) -> None:
    """Once per merged shard a process sees, drop this host's cached copies of the shards it
    replaced (S3 caches; a path store has none)."""
    if merged_name and _seen_merges.get(set_id) != merged_name:
        keep_only_in_cache(prefix, records)
        _seen_merges[set_id] = merged_name


def delete_set_objects(project_id: int, set_id: int) -> None:
    get_storage().delete_prefix(set_prefix(project_id, set_id))


def delete_project_objects(project_id: int) -> None:
    get_storage().delete_prefix(f"embeddings/{int(project_id)}")
