"""`import_file`: stream a file, validate every row, store all of it or nothing."""
from __future__ import annotations

import io
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TextIO

from annotator.images.archive import ImageArchive
from annotator.images.staging import ImageStager, in_chunks
from annotator.images.uploads import atomic_uploads
from annotator.importers import writers
from annotator.importers.errors import (
    MAX_ERRORS,
    ON_ERROR_CHOICES,
    ImportFailed,
    ImportResult,
    RowError,
)
from annotator.importers.mapping import ColumnMapping, RowBuilder
from annotator.importers.readers import reader_for
from annotator.services.embeddings import after_examples_changed

logger = logging.getLogger(__name__)

# zip: a CSV or JSONL manifest with an `image` column naming files in the archive
# (annotator/images/archive.py).
FORMATS = ("csv", "tsv", "jsonl", "conll", "x-json", "zip")
# progress(processed_bytes, rows_seen)
Progress = Callable[[int, int], None]
_PROGRESS_EVERY_ROWS = 5000


class _CountingReader(io.RawIOBase):
    """Counts the bytes read from the source, for progress reports."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


@contextmanager
def open_source(source: str | Path | IO[bytes] | Any) -> Iterator[tuple[TextIO, _CountingReader]]:
    """A UTF-8 text stream (BOM skipped, newlines untouched as csv needs) over a path or a
    binary file object such as a Django UploadedFile, read in 64 KiB chunks."""
    own = isinstance(source, (str, Path, os.PathLike))
    binary = open(source, "rb") if own else source  # noqa: SIM115 - closed in finally
    try:
        if not own and hasattr(binary, "seek"):
            binary.seek(0)
        counter = _CountingReader(binary)
        text = io.TextIOWrapper(
            io.BufferedReader(counter, 1 << 16), encoding="utf-8-sig", newline="",
            # Undecodable bytes become U+DC80..U+DCFF escapes, which the readers report at
            # their own line (a decode error would only say which 8 KiB chunk held them).
            errors="surrogateescape",
        )
        yield text, counter
    finally:
        if own:
            binary.close()


def import_file(
    project: Any,
    source: str | Path | IO[bytes] | Any,
    fmt: str,
    *,
    mapping: dict[str, Any] | ColumnMapping | None = None,
    user: Any = None,
    progress: Progress | None = None,
    on_error: str = "stop",
) -> ImportResult:
    """Import `source` (a path or a binary file object) in format `fmt` into `project`.

    Rows become Examples (raw text kept, normalized text and content hash computed); labels or
    spans in the file become one user-less Annotation with source "import" per example. Rows
    whose content hash is already in the project, or earlier in the file, are skipped and
    counted as duplicates. Memory stays flat: one record at a time is parsed, rows stream to the
    database (COPY), and external ids are checked there.

    on_error="stop" (the default): any bad row raises ImportFailed listing up to 100 errors with
    their line numbers, and nothing is stored (one transaction). on_error="skip": bad records are
    left out and listed on the result (`skipped`, `errors`), the valid rows are stored. Either way
    a file-level problem (undecodable bytes, an unusable header) raises ImportFailed.
    """
    if fmt not in FORMATS:
        raise ImportFailed.single(f"unknown format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    if on_error not in ON_ERROR_CHOICES:
        raise ImportFailed.single(f"on_error must be one of {', '.join(ON_ERROR_CHOICES)}, not {on_error!r}")
    skip = on_error == "skip"
    parsed = ColumnMapping.parse(mapping)
    archive = ImageArchive(source) if fmt == "zip" else None
    stager = ImageStager(project.pk, archive)
    if archive is not None and progress is not None:
        progress = _archive_progress(progress, archive, source)
    try:
        return _import(project, archive.open_manifest() if archive else source, fmt, parsed, user,
                       progress, skip, stager, archive.manifest_format if archive else fmt)
    finally:
        stager.close()
        if archive is not None:
            archive.close()


def _import(project: Any, source: Any, fmt: str, mapping: ColumnMapping, user: Any,
            progress: Progress | None, skip: bool, stager: ImageStager, text_fmt: str) -> ImportResult:
    builder = RowBuilder(project, mapping, fmt, images=stager)
    errors: list[dict[str, object]] = []
    skipped = 0
    truncated = False
    rows_seen = 0
    last_report = time.monotonic()
    started = last_report
    with open_source(source) as (stream, counter), atomic_uploads() as uploads:
        reader = reader_for(text_fmt, stream)
        writer = writers.PostgresCopyWriter(project)
        try:
            for item in reader:
                rows_seen += 1
                problem: RowError | None = item if isinstance(item, RowError) else None
                if problem is None:
                    try:
                        if builder.columns is None and reader.columns:
                            builder.resolve(reader.columns, 1, strict=True)
                        row = builder.build(item)
                    except RowError as exc:
                        problem = exc
                        if builder.columns is None:
                            problem.fatal = True  # the header is unusable: every row would fail
                if problem is not None:
                    if problem.fatal:
                        errors.append(problem.as_dict())
                        raise ImportFailed(errors, truncated)
                    skipped += 1
                    if len(errors) < MAX_ERRORS:
                        errors.append(problem.as_dict())
                    elif not skip:
                        truncated = True
                        break
                else:
                    # Every valid row is staged, even once the import has failed, so that
                    # id_conflicts() sees the whole file.
                    writer.add(row)
                if progress is not None and rows_seen % _PROGRESS_EVERY_ROWS == 0:
                    now = time.monotonic()
                    if now - last_report >= 0.5:
                        progress(counter.count, rows_seen)
                        last_report = now
            # A second, different text under an external id used earlier in the file is an
            # error naming both lines (the same text again is an ordinary duplicate).
            conflicts, id_errors = writer.id_conflicts(remove=skip, limit=MAX_ERRORS)
            if conflicts:
                skipped += conflicts
                truncated = truncated or conflicts > len(id_errors)
                # ImportFailed and the result both list the first MAX_ERRORS by line.
                errors = sorted(errors + [e.as_dict() for e in id_errors], key=_line_of)
                if skip:
                    errors = errors[:MAX_ERRORS]
            if errors and not skip:
                raise ImportFailed(errors, truncated)
            imported, duplicates = writer.finish()
            if stager.staged:  # store the images of the inserted rows (duplicates' are dropped)
                stager.store(_inserted_images(project, list(stager.staged)), uploads)
        except BaseException as exc:
            writer.abort(exc)
            raise
    if progress is not None:
        progress(counter.count, rows_seen)
    if imported:
        after_examples_changed(project)  # embed the new examples where a set exists
    logger.info(
        "import into project %s by %s: %s imported, %s duplicates, %s skipped, %.1f s",
        project.pk, getattr(user, "username", None), imported, duplicates, skipped,
        time.monotonic() - started,
    )
    return ImportResult(imported=imported, duplicates=duplicates, skipped=skipped, errors=errors)


def _archive_progress(progress: Progress, archive: ImageArchive, source: Any) -> Progress:
    """Progress in bytes of the archive (what a job's total_bytes counts) from the bytes of the
    manifest read: the images are read as their rows are."""
    total = os.path.getsize(source) if isinstance(source, (str, Path, os.PathLike)) else (
        getattr(source, "size", 0) or 0)
    manifest = max(1, archive.entries[archive.manifest_name].file_size)
    return lambda done, rows: progress(min(total, int(done / manifest * total)) if total else done, rows)


def _inserted_images(project: Any, keys: list[str]) -> set[str]:
    from annotator.models import Example

    found: set[str] = set()
    for chunk in in_chunks(keys):
        found.update(Example.objects.filter(project=project, image__in=chunk).values_list("image", flat=True))
    return found


def _line_of(error: dict[str, object]) -> int:
    line = error.get("line")
    return line if isinstance(line, int) else 0
