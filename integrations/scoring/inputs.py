"""Read a scoring upload (JSONL or CSV of texts) into chunk files of {row, id, text}.

The file is read once, streaming, with the import's readers (same line numbers, encoding and
quoting rules, annotator.importers.readers); nothing is stored as an example. A bad row fails
the upload with up to 100 `{line, message}` errors and leaves no file behind.

- JSONL: one object per line with "text" (a non-empty string) and optionally "id".
- CSV: a header with a "text" column and optionally an "id" column; other columns are ignored.
- ZIP with images: not yet (scoring takes texts; it comes once image import does).
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from annotator.importers.errors import RowError
from annotator.importers.readers import DelimitedReader, JsonLinesReader, Record
from annotator.importers.service import open_source
from config.text_safety import unsafe_in_text

INPUT_FORMATS = ("jsonl", "csv")
MAX_ERRORS = 100
MAX_TEXT_CHARS = 100_000


class ScoringInputError(ValueError):
    """The upload cannot be scored; `errors` are `{line, message}` (line None: the whole file)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors[:MAX_ERRORS]
        first = errors[0] if errors else {"line": None, "message": "bad input"}
        where = f"line {first['line']}: " if first.get("line") else ""
        super().__init__(where + str(first["message"]))


def detect_format(fmt: str | None, filename: str) -> str:
    fmt = (fmt or "").strip().lower()
    name = (filename or "").lower()
    if not fmt:
        if name.endswith(".zip"):
            fmt = "zip"
        elif name.endswith((".jsonl", ".ndjson", ".json")):
            fmt = "jsonl"
        elif name.endswith(".csv"):
            fmt = "csv"
    if fmt == "zip":
        raise ScoringInputError([{"line": None, "message": (
            "format: ZIP archives with images are not supported yet; send the texts as JSONL "
            "or CSV")}])
    if fmt not in INPUT_FORMATS:
        shown = f"{fmt!r}" if fmt else f"none given and none found in the name {filename!r}"
        raise ScoringInputError([{"line": None, "message": (
            f"format: {shown}; send jsonl (one {{\"text\", \"id\"}} object per line) or csv "
            "(a header with a text column)")}])
    return fmt


def _rows(stream: Any, fmt: str) -> Iterator[Record | RowError]:
    if fmt == "jsonl":
        yield from JsonLinesReader(stream)
        return
    reader = DelimitedReader(stream)
    checked = False
    for item in reader:
        if not checked and isinstance(item, Record):
            checked = True
            if "text" not in reader.columns:
                yield RowError(1, f"the CSV header has no 'text' column (it has: {', '.join(reader.columns)})", fatal=True)
                return
        yield item


def _text_and_id(record: Record) -> tuple[str, Any]:
    text = record.fields.get("text")
    if not isinstance(text, str):
        raise RowError(record.line, "'text' is missing or not a string")
    if not text.strip():
        raise RowError(record.line, "'text' is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise RowError(record.line, f"'text' is longer than {MAX_TEXT_CHARS} characters")
    unsafe = unsafe_in_text(text)
    if unsafe is not None:
        raise RowError(record.line, f"'text' contains {unsafe[1]} at character {unsafe[0] + 1}")
    ident = record.fields.get("id")
    if ident is not None and not isinstance(ident, (str, int, float)):
        raise RowError(record.line, "'id' must be a string or a number")
    if isinstance(ident, str) and unsafe_in_text(ident) is not None:
        raise RowError(record.line, "'id' contains a character that cannot be stored")
    return text, (None if ident == "" else ident)


def split_into_chunks(source: Any, fmt: str, directory: Path, chunk_size: int) -> list[int]:
    """Write `directory/<index>.jsonl` files of at most `chunk_size` rows; returns the rows per
    chunk. Raises ScoringInputError (and removes the directory) on any bad row."""
    directory.mkdir(parents=True, exist_ok=True)
    errors: list[dict[str, Any]] = []
    sizes: list[int] = []
    out = None
    try:
        with open_source(source) as (stream, _counter):
            row = 0
            for item in _rows(stream, fmt):
                if isinstance(item, RowError):
                    errors.append(item.as_dict())
                    if item.fatal or len(errors) >= MAX_ERRORS:
                        break
                    continue
                try:
                    text, ident = _text_and_id(item)
                except RowError as exc:
                    errors.append(exc.as_dict())
                    if len(errors) >= MAX_ERRORS:
                        break
                    continue
                if errors:
                    continue  # the upload fails anyway: keep reading only to list errors
                if out is None or sizes[-1] >= chunk_size:
                    if out is not None:
                        out.close()
                    out = open(directory / f"{len(sizes)}.jsonl", "w", encoding="utf-8")  # noqa: SIM115
                    sizes.append(0)
                out.write(json.dumps({"row": row, "id": ident, "text": text}, ensure_ascii=False) + "\n")
                sizes[-1] += 1
                row += 1
        if out is not None:
            out.close()
            out = None
        if not errors and not sizes:
            errors.append({"line": None, "message": "the file holds no texts"})
        if errors:
            raise ScoringInputError(errors)
    except BaseException:
        if out is not None:
            out.close()
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return sizes
