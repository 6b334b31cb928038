"""Streaming readers: one record at a time with the physical line it starts on.

Each reader wraps a text stream and yields `Record`s, or `RowError`s for records it cannot
parse (the import goes on reading so it can list up to 100 problems). Nothing here holds more
than one record in memory, except the one bounded case documented on `read_xjson`.
"""
from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from annotator.importers.errors import RowError
from annotator.importers.lines import (
    FIELD_LIMIT,
    LineSource,
    LineTooLong,
    UndecodableLine,
    numbered,
)
from config.inputs import InvalidInput, InvalidJSON, loads_json
from config.text_safety import undecodable_byte


def decode_json(text: str) -> Any:
    """A JSON line or document through Vigia's one decoder (depth, finite numbers, int64);
    NUL and surrogates are left to the column mapping, which names their line and column."""
    return loads_json(text, "record", check_text=False)

csv.field_size_limit(min(sys.maxsize, FIELD_LIMIT))

# A pretty-printed X API document cannot be parsed incrementally with the standard library;
# real responses are pages of at most 100 tweets, so a bound this large is never hit by them.
XJSON_DOCUMENT_LIMIT = 64 * 1024 * 1024

_CONLL_ID = re.compile(r"^#\s*id\s*=\s*(.*)$")


@dataclass
class Record:
    """One source record: its fields by (trimmed) column name or JSON key."""

    line: int
    fields: dict[str, Any]
    # CoNLL sentences carry their spans already resolved to character offsets.
    extra: dict[str, Any] = field(default_factory=dict)


Item = Record | RowError


class DelimitedReader:
    """CSV (strict RFC 4180 quoting) or TSV (no quoting, as HatEval needs). Header names are
    trimmed: some CrisisLex T26 files start them with a space.

    Strict: a quote that opens a field must close it right before a delimiter or the end of the
    line. A stray quote used to be tolerated (`strict=False`), which silently merged the next
    row into this one when the column count happened to line up; now the record is an error
    naming its first line. (A stray quote that happens to be closed again right before a
    delimiter is valid CSV: it reads like a field spanning lines, which real tweets have, e.g.
    the trump file's, so it cannot be told apart and is not flagged.)"""

    def __init__(self, stream: TextIO, delimiter: str = ",", quoting: bool = True) -> None:
        self.stream = stream
        self.delimiter = delimiter
        self.quoting = quoting
        self.columns: list[str] = []

    def __iter__(self) -> Iterator[Item]:
        lines = LineSource(self.stream)
        if self.quoting:
            reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
        else:
            reader = csv.reader(lines, delimiter=self.delimiter, quoting=csv.QUOTE_NONE)
        last_line = 0
        header: list[str] | None = None
        while True:
            start = last_line + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                last_line = reader.line_num
                yield RowError(start, self._quote_message(str(exc), start, last_line))
                if header is None:
                    return
                continue
            except UndecodableLine as exc:
                yield exc.error
                return
            except LineTooLong as exc:
                yield RowError(exc.line, lines.too_long(exc.line).message, fatal=True)
                return
            last_line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip() and header is not None):
                continue  # blank line
            if header is None and not any(value.strip() for value in row):
                continue  # whitespace before the header: an all-blank file is an empty file
            if header is None:
                header = [name.strip() for name in row]
                if not any(header):
                    yield RowError(start, "the header line is empty")
                    return
                self.columns = header
                continue
            if len(row) != len(header):
                message = (
                    f"expected {len(header)} columns as in the header, found {len(row)}"
                )
                if self.quoting and any("\n" in value or '"' in value for value in row):
                    message += (
                        "; a quote character opens a field that is never closed (stray quote?)"
                    )
                yield RowError(start, message)
                continue
            yield Record(start, dict(zip(header, row)))
        if header is None:
            yield empty_file_error()

    def _kind(self) -> str:
        return "CSV" if self.delimiter == "," else "TSV"

    def _quote_message(self, reason: str, start: int, end: int) -> str:
        where = f"line {end}" if end == start else f"lines {start}-{end}"
        if "expected after" in reason:
            what = "a quoted field is followed by other characters before the delimiter"
        elif "end of data" in reason:
            what = "a quote opens a field that is never closed"
        elif "field larger" in reason:
            what = f"a field is longer than {FIELD_LIMIT // (1024 * 1024)} MiB"
        else:
            what = reason
        return (
            f"malformed {self._kind()} record: {what} (stray quote?); {where} could not be read "
            "as rows. Quote a field that contains quotes and double the quotes inside it: "
            '"he said ""hi"""'
        )


class JsonLinesReader:
    """One JSON object per line; blank lines are skipped."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.columns: list[str] = []

    def __iter__(self) -> Iterator[Item]:
        for line_no, line in numbered(LineSource(self.stream)):
            if isinstance(line, RowError):
                yield line
                if line.fatal:
                    return
                continue
            if not line.strip():
                continue
            try:
                value = decode_json(line)
            except InvalidJSON as exc:
                yield RowError(line_no, f"invalid JSON: {exc.msg} (column {exc.colno})")
                continue
            except InvalidInput as exc:
                yield RowError(line_no, f"{exc.field}: {exc.message}")
                continue
            if not isinstance(value, dict):
                yield RowError(line_no, f"expected a JSON object, found {type(value).__name__}")
                continue
            yield Record(line_no, value)


def _flatten_tweet(tweet: dict[str, Any], usernames: dict[str, str]) -> dict[str, Any]:
    """An X API v2 tweet object as flat fields the column mapping understands."""
    fields: dict[str, Any] = {}
    note = tweet.get("note_tweet")
    # Long posts carry their full text in note_tweet; `text` is then truncated.
    fields["text"] = note.get("text") if isinstance(note, dict) and note.get("text") else tweet.get("text")
    for key in ("id", "created_at", "lang", "conversation_id", "in_reply_to_user_id"):
        if tweet.get(key) is not None:
            fields[key] = tweet[key]
    metrics = tweet.get("public_metrics")
    if isinstance(metrics, dict):
        for key in ("retweet_count", "reply_count", "like_count", "quote_count"):
            if metrics.get(key) is not None:
                fields[key] = metrics[key]
    author_id = tweet.get("author_id")
    if author_id is not None:
        fields["author_id"] = str(author_id)
        fields["author"] = usernames.get(str(author_id), str(author_id))
    if isinstance(tweet.get("author"), dict) and tweet["author"].get("username"):
        fields["author"] = tweet["author"]["username"]
    if tweet.get("geo"):
        fields["geo"] = tweet["geo"]
    for key in ("labels", "spans"):
        if key in tweet:
            fields[key] = tweet[key]
    return fields


def _usernames(document: dict[str, Any]) -> dict[str, str]:
    includes = document.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    if not isinstance(users, list):
        return {}
    return {
        str(u["id"]): u["username"]
        for u in users
        if isinstance(u, dict) and u.get("id") is not None and u.get("username")
    }


class XJsonReader:
    """X API v2 tweets: one tweet object per line, one response page (`{"data": [...],
    "includes": {"users": [...]}}`) per line, or a single (pretty-printed) response document up
    to XJSON_DOCUMENT_LIMIT characters."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.columns: list[str] = []

    def __iter__(self) -> Iterator[Item]:
        self._lines = numbered(LineSource(self.stream))
        first = self._first_content_line()
        if first is None:
            yield empty_file_error()
            return
        if isinstance(first, RowError):
            yield first
            return
        first_no, first_line = first
        try:
            decode_json(first_line)
            per_line = True
        except InvalidJSON:
            per_line = False
        except InvalidInput:  # JSON, but a value Vigia refuses: the per-line reader names it
            per_line = True
        if per_line:
            yield from self._per_line(first_no, first_line)
        else:
            yield from self._whole_document(first_no, first_line)

    def _first_content_line(self) -> tuple[int, str] | RowError | None:
        for line_no, line in self._lines:
            if isinstance(line, RowError):
                return line
            if line.strip():
                return line_no, line
        return None

    def _page(self, line_no: int, value: Any, where: str = "") -> Iterator[Item]:
        if isinstance(value, dict) and "data" in value:
            data = value["data"]
            tweets = data if isinstance(data, list) else [data]
            usernames = _usernames(value)
            for i, tweet in enumerate(tweets):
                if not isinstance(tweet, dict):
                    yield RowError(line_no, f"{where}data[{i}] is not a tweet object")
                    continue
                yield Record(line_no, _flatten_tweet(tweet, usernames))
        elif isinstance(value, dict):
            yield Record(line_no, _flatten_tweet(value, {}))
        else:
            yield RowError(line_no, f"expected a tweet object, found {type(value).__name__}")

    def _per_line(self, first_no: int, first_line: str) -> Iterator[Item]:
        def lines() -> Iterator[tuple[int, str | RowError]]:
            yield first_no, first_line
            yield from self._lines

        for line_no, line in lines():
            if isinstance(line, RowError):
                yield line
                if line.fatal:
                    return
                continue
            if not line.strip():
                continue
            try:
                value = decode_json(line)
            except InvalidJSON as exc:
                yield RowError(line_no, f"invalid JSON: {exc.msg} (column {exc.colno})")
                continue
            except InvalidInput as exc:
                yield RowError(line_no, f"{exc.field}: {exc.message}")
                continue
            yield from self._page(line_no, value)

    def _whole_document(self, first_no: int, first_line: str) -> Iterator[Item]:
        text = first_line + self.stream.read(XJSON_DOCUMENT_LIMIT)
        if self.stream.read(1):
            yield RowError(
                first_no,
                "a single X API document over 64 MB: save responses one per line instead",
            )
            return
        bad = undecodable_byte(text)
        if bad is not None:
            line_no = first_no + text.count("\n", 0, bad[0])
            start = text.rfind("\n", 0, bad[0]) + 1
            end = text.find("\n", bad[0])
            yield UndecodableLine(line_no, text[start : end if end >= 0 else None]).error
            return
        try:
            value = decode_json(text)
        except InvalidJSON as exc:
            yield RowError(first_no + max(exc.lineno, 1) - 1, f"invalid JSON: {exc.msg} (column {exc.colno})")
            return
        except InvalidInput as exc:
            yield RowError(first_no, f"{exc.field}: {exc.message}")
            return
        yield from self._page(first_no, value)


class ConllReader:
    """BIO CoNLL: `token<TAB>tag` per line, a blank (or whitespace-only) line between
    sentences, optional `# id = ...` comment lines. A sentence becomes one record: the tokens
    joined with single spaces and its entities as character-offset spans."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.columns: list[str] = []

    def __iter__(self) -> Iterator[Item]:
        tokens: list[str] = []
        tags: list[tuple[int, str]] = []
        start_line = 0
        external_id = ""
        bad = False
        line_no = 0
        for line_no, raw in numbered(LineSource(self.stream)):
            if isinstance(raw, RowError):
                yield raw
                if raw.fatal:
                    return
                bad = True
                continue
            line = raw.rstrip("\r\n")
            if not line.strip():
                if tokens or bad:
                    yield self._sentence(start_line, tokens, tags, external_id, bad)
                tokens, tags, external_id, bad = [], [], "", False
                continue
            if "\t" not in line and line.startswith("#"):
                match = _CONLL_ID.match(line)
                if match and not tokens:
                    external_id = match.group(1).strip()
                continue
            if line.startswith("-DOCSTART-"):
                continue
            parts = line.split("\t") if "\t" in line else line.split()
            if not tokens and not bad:
                start_line = line_no
            if len(parts) < 2 or not parts[0].strip():
                yield RowError(line_no, "expected `token<TAB>tag`")
                bad = True
                continue
            tokens.append(parts[0].strip())
            tags.append((line_no, parts[-1].strip()))
        if tokens or bad:
            yield self._sentence(start_line, tokens, tags, external_id, bad)

    @staticmethod
    def _sentence(
        start_line: int, tokens: list[str], tags: list[tuple[int, str]], external_id: str,
        bad: bool,
    ) -> Item:
        if bad:
            return RowError(start_line, "sentence skipped: it has a malformed token line")
        spans: list[dict[str, Any]] = []
        offset = 0
        current: dict[str, Any] | None = None
        for token, (line_no, tag) in zip(tokens, tags):
            start, end = offset, offset + len(token)
            offset = end + 1
            if tag == "O":
                current = None
                continue
            prefix, _, label = tag.partition("-")
            if prefix not in {"B", "I"} or not label:
                return RowError(line_no, f"tag {tag!r} is not BIO (expected O, B-<label> or I-<label>)")
            # conlleval convention: an I- tag that does not continue its entity starts one.
            if prefix == "I" and current is not None and current["label"] == label:
                current["end"] = end
                continue
            current = {"start": start, "end": end, "label": label, "line": line_no}
            spans.append(current)
        fields: dict[str, Any] = {"text": " ".join(tokens)}
        if external_id:
            fields["id"] = external_id
        return Record(start_line, fields, extra={"conll_spans": spans})


EMPTY_FILE = "the file is empty: it holds no records (only blank lines or nothing at all)"


def empty_file_error() -> RowError:
    """The one answer to an empty file, in every format: a file-level error (never skipped)."""
    return RowError(1, EMPTY_FILE, fatal=True)


class NonEmpty:
    """A reader that ends with `empty_file_error()` when the file gave nothing at all (JSONL
    and CoNLL would otherwise import 0 rows and answer 201, where CSV answers 400)."""

    def __init__(self, reader: DelimitedReader | JsonLinesReader | XJsonReader | ConllReader) -> None:
        self.reader = reader

    @property
    def columns(self) -> list[str]:
        return self.reader.columns

    def __iter__(self) -> Iterator[Item]:
        gave = False
        for item in self.reader:
            gave = True
            yield item
        if not gave:
            yield empty_file_error()


def reader_for(fmt: str, stream: TextIO) -> NonEmpty:
    """The streaming reader for one of FORMATS."""
    if fmt == "csv":
        return NonEmpty(DelimitedReader(stream, ",", quoting=True))
    if fmt == "tsv":
        return NonEmpty(DelimitedReader(stream, "\t", quoting=False))
    if fmt == "jsonl":
        return NonEmpty(JsonLinesReader(stream))
    if fmt == "x-json":
        return NonEmpty(XJsonReader(stream))
    if fmt == "conll":
        return NonEmpty(ConllReader(stream))
    raise ValueError(fmt)
