"""Importing a file into a project: the one use case behind the import page, the REST import
view and `manage.py import_examples`.

`start_import` checks the request (format, on_error, the mapping's keys and, before anything is
queued, that the mapped columns exist in the header), then decides: a file larger than
VIGIA_IMPORT_ASYNC_BYTES becomes a background job, a smaller one is imported now. Errors are
ImportFailed (`errors` = `[{"line", "message", "field"?}]`, HTTP 400) or EnqueueFailed (503).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from annotator.importers import FORMATS, ImportFailed, ImportResult, import_file
from annotator.importers.errors import ON_ERROR_CHOICES
from annotator.importers.jobs import start_import_job
from annotator.importers.mapping import ColumnMapping
from annotator.importers.preview import preview_import
from annotator.models import ImportJob, Project
from config.events import IMPORT_FINISHED, emit
from config.inputs import InvalidInput, InvalidJSON, loads_json


@dataclass(frozen=True)
class ImportOutcome:
    """Either the finished import's `result` or the background `job`."""

    result: ImportResult | None = None
    job: ImportJob | None = None


def field_error(field: str, message: str) -> ImportFailed:
    return ImportFailed([{"line": None, "field": field, "message": f"{field}: {message}"}])


def parse_mapping_text(raw: str | None) -> dict[str, Any] | None:
    """The mapping as sent by a form, a multipart field or a CLI flag: a JSON object or empty."""
    if raw is None or not str(raw).strip():
        return None
    try:
        value = loads_json(raw, "mapping")
    except InvalidJSON as exc:
        raise field_error("mapping", f"not valid JSON ({exc.msg}, column {exc.colno})") from None
    except InvalidInput as exc:
        raise field_error("mapping", f"{exc.field}: {exc.message}") from None
    if not isinstance(value, dict):
        raise field_error("mapping", 'must be a JSON object, e.g. {"text": "tweet"}')
    return value


_YES = {"true", "1", "yes", "on"}
_NO = {"", "false", "0", "no", "off", "none"}


def parse_posted_at_from_id(value: Any) -> bool | str | None:
    """The `posted_at_from_id` option as a form, a multipart field or a flag sends it: true
    (`true`, `1`, `yes`, `on`) for the id column, a column name, or off (empty, `false`)."""
    if value is None or value is False:
        return None
    if value is True:
        return True
    if not isinstance(value, str):
        raise field_error("posted_at_from_id", "must be true, false or the name of a column of tweet ids")
    text = value.strip()
    if text.lower() in _YES:
        return True
    if text.lower() in _NO:
        return None
    return text


def with_posted_at_from_id(mapping: dict[str, Any] | None, value: Any) -> dict[str, Any] | None:
    """`mapping` with the `posted_at_from_id` option set (unchanged when the option is off)."""
    option = parse_posted_at_from_id(value)
    if option is None:
        return mapping
    return {**(mapping or {}), "posted_at_from_id": option}


def source_size(source: Any) -> int:
    if isinstance(source, (str, Path, os.PathLike)):
        return os.path.getsize(source)
    return getattr(source, "size", 0) or 0


def check_import_request(project: Project, source: Any, fmt: str, mapping: dict[str, Any] | None,
                         on_error: str) -> None:
    """Refuse a bad request before any row is read or any job is queued."""
    if not fmt:
        raise field_error("format", f"required; one of {', '.join(FORMATS)}")
    if fmt not in FORMATS:
        raise field_error("format", f"unknown format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    if on_error not in ON_ERROR_CHOICES:
        raise field_error("on_error", f"must be one of {', '.join(ON_ERROR_CHOICES)}, not {on_error!r}")
    ColumnMapping.parse(mapping)  # unknown keys, wrong types: ImportFailed naming them
    if mapping and fmt in ("csv", "tsv"):
        # A mapped column missing from the header fails the whole file: say so now, not in
        # the worker an hour later. Only the first record is read.

        header = preview_import(project, source, fmt, mapping, n=1)
        if any("is not in the header" in str(e["message"]) for e in header.errors):
            raise ImportFailed(header.errors)
        if hasattr(source, "seek"):
            source.seek(0)


def start_import(
    project: Project, source: Any, fmt: str, *, mapping: dict[str, Any] | None = None,
    user: Any = None, on_error: str = "stop", name: str = "", background: bool | None = None,
    progress: Any = None, posted_at_from_id: Any = None,
) -> ImportOutcome:
    """Check the request, then import `source` (an upload or a path) now or as a job.

    background=None decides by size (VIGIA_IMPORT_ASYNC_BYTES); False always imports now (the
    CLI, which prints progress itself); True always queues a job. `posted_at_from_id` (true, or
    a column name) takes each row's posting time from its tweet id (the mapping key of the
    same name, which it sets)."""
    mapping = with_posted_at_from_id(mapping, posted_at_from_id)
    on_error = (on_error or "stop").strip()
    fmt = (fmt or "").strip()
    check_import_request(project, source, fmt, mapping, on_error)
    if background is None:
        background = source_size(source) > settings.VIGIA_IMPORT_ASYNC_BYTES
    if background:
        if isinstance(source, (str, Path, os.PathLike)):
            from django.core.files import File

            with open(source, "rb") as fh:
                upload = File(fh, name=name or Path(source).name)
                job = start_import_job(project, upload, fmt, mapping=mapping, user=user, on_error=on_error)
        else:
            job = start_import_job(project, source, fmt, mapping=mapping, user=user, on_error=on_error)
        return ImportOutcome(job=job)
    try:
        result = import_file(project, source, fmt, mapping=mapping, user=user, on_error=on_error,
                             progress=progress)
    except ImportFailed:
        emit(IMPORT_FINISHED, project.pk, {"import_job": None, "state": "failed", "imported": 0,
                                           "duplicates": 0, "skipped": 0})
        raise
    emit(IMPORT_FINISHED, project.pk, {
        "import_job": None, "state": "succeeded", "imported": result.imported,
        "duplicates": result.duplicates, "skipped": result.skipped,
    })
    return ImportOutcome(result=result)
