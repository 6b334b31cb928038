"""A scoring job's files in the shared store (config.storage), so that the web host that takes
the upload, the workers that score the chunks and the host that serves the download may be
different machines sharing only the database, the broker and VIGIA_STORAGE_URL.

Keys, relative to the store's root:
- `scoring/<job>/input/<index>.jsonl`: a chunk's texts, `{row, id, text}` per line; uploaded by
  the host that took the upload, once the whole file has been read without a bad row;
- `scoring/<job>/output/<index>.jsonl`: that chunk's results; uploaded by the worker that scored
  it, before the chunk's `done` mark commits;
- `scoring/<job>/results.<jsonl|csv>`: the joined results; uploaded by the worker that finished
  the last chunk, before the job's `succeeded` state (and the object's sha256) commits.

Every object is written whole (the store's rule: a reader sees it entire or not at all). Chunk
inputs and outputs are read straight from the store (`read_bytes`), never through this host's
cache: each is read once, by one host, and a cached copy would only fill a worker's disk. The
results are read through the cache (the download, possibly repeated), checked against the sha256
on the job's row.
"""
from __future__ import annotations

import csv
import json
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from config.storage import Storage, StorageError, get_storage
from integrations.scoring.inputs import split_into_chunks

logger = logging.getLogger(__name__)


def job_prefix(job_id: int) -> str:
    return f"scoring/{int(job_id)}"


def input_key(job_id: int, index: int) -> str:
    return f"{job_prefix(job_id)}/input/{int(index)}.jsonl"


def output_key(job_id: int, index: int) -> str:
    return f"{job_prefix(job_id)}/output/{int(index)}.jsonl"


def result_key(job_id: int, output_format: str) -> str:
    return f"{job_prefix(job_id)}/results.{output_format}"


@contextmanager
def _scratch(storage: Storage) -> Iterator[Path]:
    directory = storage.scratch_dir()
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _hand_over(storage: Storage, path: Path, key: str) -> str:
    """Store a finished local file that this host will not read again; its sha256. A path store
    renames it into place (the scratch directory is on the store's file system); an S3 store
    uploads a copy and leaves it out of this host's cache, since another host reads it."""
    return storage.put_file(path, key, move=storage.is_local)


def store_inputs(job_id: int, source: Any, fmt: str, chunk_size: int) -> list[int]:
    """Read the upload into chunks of at most `chunk_size` rows and store them under the job's
    prefix; returns the rows per chunk. ScoringInputError (bad rows) leaves nothing in the store;
    a StorageError removes whatever chunks had been stored."""
    storage = get_storage()
    with _scratch(storage) as directory:
        sizes = split_into_chunks(source, fmt, directory / "input", chunk_size)
        try:
            for index in range(len(sizes)):
                _hand_over(storage, directory / "input" / f"{index}.jsonl", input_key(job_id, index))
        except BaseException:
            try:
                delete_job_files(job_id)
            except StorageError:  # the store is down: the error that matters is the upload's
                logger.exception("removing the chunks of scoring job %s failed", job_id)
            raise
    return sizes


def _lines(data: bytes) -> list[bytes]:
    # bytes.splitlines splits on \n and \r only, which JSON escapes inside strings (str.splitlines
    # would also split on U+2028 and the like, which json.dumps leaves raw with ensure_ascii=False).
    return [line for line in data.splitlines() if line]


def read_input(job_id: int, index: int) -> list[dict[str, Any]]:
    """A chunk's rows, read from the store (ObjectMissing once the job's files were removed)."""
    return [json.loads(line) for line in _lines(get_storage().read_bytes(input_key(job_id, index)))]


def write_output(job_id: int, index: int, results: list[dict[str, Any]]) -> None:
    """Store a chunk's results as one whole object (a rerun of the chunk replaces it)."""
    data = b"".join(json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in results)
    get_storage().put_bytes(data, output_key(job_id, index))


def delete_output(job_id: int, index: int) -> None:
    get_storage().delete(output_key(job_id, index))


def _write_part(out: IO[str], part: bytes, writer: Any, labels: list[str]) -> None:
    if writer is None:
        out.write(part.decode("utf-8"))
        return
    for line in _lines(part):
        r = json.loads(line)
        writer.writerow([r["row"], "" if r["id"] is None else r["id"], r["model_version"],
                         "|".join(r["labels"]), *[r["scores"].get(name, "") for name in labels]])


def join_results(job_id: int, output_format: str, total_chunks: int, labels: list[str]) -> tuple[int, str]:
    """Join the chunks' outputs, in chunk order, into the results object (JSONL as stored, or
    CSV); returns its (size in bytes, sha256). ObjectMissing when an output is absent."""
    storage = get_storage()
    with _scratch(storage) as directory:
        target = directory / f"results.{output_format}"
        with target.open("w", encoding="utf-8", newline="") as out:
            writer = None
            if output_format == "csv":
                writer = csv.writer(out)
                writer.writerow(["row", "id", "model_version", "labels", *[f"score_{name}" for name in labels]])
            for index in range(total_chunks):  # one chunk in memory at a time
                _write_part(out, storage.read_bytes(output_key(job_id, index)), writer, labels)
        size = target.stat().st_size
        sha = _hand_over(storage, target, result_key(job_id, output_format))
    return size, sha


def drop_chunk_files(job_id: int) -> None:
    """The texts and the per-chunk outputs, once the joined results exist."""
    storage = get_storage()
    storage.delete_prefix(f"{job_prefix(job_id)}/input")
    storage.delete_prefix(f"{job_prefix(job_id)}/output")


def delete_job_files(job_id: int) -> None:
    """Everything stored for the job (absent is fine), and this host's cached copies."""
    get_storage().delete_prefix(job_prefix(job_id))


def job_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """post_delete of a ScoringJob (alone, or with its project or model version): its objects
    go once the delete commits (a rolled-back delete keeps them)."""
    from django.db import transaction

    job_id = instance.pk
    transaction.on_commit(lambda: delete_job_files(job_id), robust=True)


def open_results(job_id: int, output_format: str, sha256: str) -> IO[bytes]:
    """The results object opened for reading: in place (a path store) or this host's cached
    copy (S3), downloaded once and checked against `sha256`. ObjectMissing (a FileNotFoundError)
    when it is gone; ChecksumMismatch when the stored object is not the one the job wrote."""
    return get_storage().get_file(result_key(job_id, output_format), sha256 or None).open("rb")


def cached_job_ids() -> list[int]:
    """Jobs with files in this host's cache of an S3 store (none for a path store)."""
    storage = get_storage()
    base = storage.cache_dir / "scoring"
    if storage.is_local or not base.is_dir():
        return []
    return [int(p.name) for p in base.iterdir() if p.name.isdigit()]


def prune_cached(job_ids: list[int]) -> None:
    """Drop this host's cached copies of these jobs' results (jobs expired, cancelled or deleted
    by another host, which could only clear its own cache)."""
    storage = get_storage()
    for job_id in job_ids:
        storage.prune_cache(job_prefix(job_id))
