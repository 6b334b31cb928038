"""On-disk shards of the embedding store: pure numpy, no Django.

A shard is two `.npy` files written by one chunk task: `<name>.ids.npy` (int64, ascending) and
`<name>.vectors.npy` (float32 or float16, L2-normalised rows). Both are written to temporary
names and renamed, so a reader never sees half a shard and a redelivered chunk task simply
rewrites the same content. Readers memory-map them.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

DTYPES = ("float32", "float16")


def shard_paths(directory: Path, name: str) -> tuple[Path, Path]:
    return directory / f"{name}.ids.npy", directory / f"{name}.vectors.npy"


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), float32."""
    x = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def write_shard(directory: Path, name: str, ids: Sequence[int], vectors: np.ndarray,
                dtype: str = "float32", normalise: bool = True) -> None:
    """Write one shard atomically (ids ascending, rows aligned with them); rows are scaled
    to unit length unless `normalise=False` (they already are: merging shards)."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, not {dtype!r}")
    ids_arr = np.asarray(ids, dtype=np.int64)
    vecs = np.asarray(vectors)
    if vecs.ndim != 2 or len(vecs) != len(ids_arr):
        raise ValueError(f"{len(ids_arr)} ids but vectors of shape {vecs.shape}")
    order = np.argsort(ids_arr, kind="stable")
    ids_arr, vecs = ids_arr[order], vecs[order]
    directory.mkdir(parents=True, exist_ok=True)
    ids_path, vec_path = shard_paths(directory, name)
    tag = uuid.uuid4().hex
    tmp_ids, tmp_vecs = directory / f".{tag}.ids.npy", directory / f".{tag}.vectors.npy"
    try:
        np.save(tmp_ids, ids_arr)
        np.save(tmp_vecs, (l2_normalise(vecs) if normalise else vecs).astype(dtype))
        # Vectors first: a reader that finds the ids file also finds its vectors.
        os.replace(tmp_vecs, vec_path)
        os.replace(tmp_ids, ids_path)
    finally:
        for tmp in (tmp_ids, tmp_vecs):
            tmp.unlink(missing_ok=True)


def read_shard(directory: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of one shard, memory-mapped (read-only)."""
    ids_path, vec_path = shard_paths(directory, name)
    return np.load(ids_path, mmap_mode="r"), np.load(vec_path, mmap_mode="r")


def _members(ids: np.ndarray, sorted_keep: np.ndarray) -> np.ndarray:
    """Boolean mask: which of `ids` are in the ascending array `sorted_keep`."""
    if len(sorted_keep) == 0:
        return np.zeros(len(ids), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keep, ids), len(sorted_keep) - 1)
    return sorted_keep[pos] == ids


def gather(shards: Iterable[tuple[np.ndarray, np.ndarray]], keep: np.ndarray | None = None,
           dim: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All shards' rows as (ids int64 ascending, vectors float32; may be a read-only memory
    map), keeping only ids in `keep`
    (live example ids) when given; only the kept rows of a memory-mapped shard are read. An id
    found in several shards counts once: the last shard's row (its text was edited and
    re-embedded; shards are given oldest first)."""
    live = None if keep is None else np.unique(np.asarray(keep, dtype=np.int64))
    id_parts, vec_parts = [], []
    for ids, vecs in shards:
        ids = np.asarray(ids)
        dim = dim or (vecs.shape[1] if vecs.ndim == 2 else None)
        if len(ids) == 0:
            continue
        if live is not None:
            mask = _members(ids, live)
            if not mask.all():
                ids, vecs = ids[mask], vecs[mask]
        if len(ids):
            id_parts.append(ids)
            vec_parts.append(vecs)
    if not id_parts:
        return np.zeros(0, dtype=np.int64), np.zeros((0, dim or 0), dtype=np.float32)
    if len(id_parts) == 1 and vec_parts[0].dtype == np.float32:
        # One (merged) float32 shard, nothing filtered out: hand out the memory map itself,
        # read-only, instead of copying hundreds of megabytes.
        return id_parts[0], vec_parts[0]
    all_ids = np.concatenate(id_parts)
    all_vecs = np.concatenate(vec_parts).astype(np.float32, copy=False)
    if len(all_ids) > 1 and (all_ids[1:] <= all_ids[:-1]).any():
        order = np.argsort(all_ids, kind="stable")
        all_ids, all_vecs = all_ids[order], all_vecs[order]
        last = np.ones(len(all_ids), dtype=bool)
        last[:-1] = all_ids[:-1] != all_ids[1:]
        if not last.all():
            all_ids, all_vecs = all_ids[last], all_vecs[last]
    return all_ids, all_vecs


def select(ids: np.ndarray, vectors: np.ndarray, wanted: Sequence[int]) -> np.ndarray:
    """Rows of `vectors` for `wanted` ids in the given order; KeyError naming missing ids.
    `ids` must be ascending (as `gather` returns them)."""
    want = np.asarray(list(wanted), dtype=np.int64)
    pos = np.searchsorted(ids, want)
    pos_clipped = np.minimum(pos, max(len(ids) - 1, 0))
    found = (pos < len(ids)) & (ids[pos_clipped] == want) if len(ids) else np.zeros(len(want), bool)
    if not found.all():
        missing = want[~found]
        shown = ", ".join(str(i) for i in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise KeyError(f"no vectors for {len(missing)} example(s): {shown}")
    return vectors[pos_clipped]


def top_k(vectors: np.ndarray, query: np.ndarray, k: int,
          exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row positions and cosine scores of the `k` rows most similar to `query` (rows and query
    unit length), best first; rows flagged in the boolean `exclude` are skipped. Ties keep
    the lower position first, so results are deterministic."""
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    scores = np.asarray(vectors, dtype=np.float32) @ q
    if exclude is not None:
        scores = np.where(exclude, -np.inf, scores)
    k = max(0, min(k, int(np.isfinite(scores).sum())))
    if k == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    order = np.lexsort((part, -scores[part]))
    best = part[order]
    return best.astype(np.int64), scores[best]
