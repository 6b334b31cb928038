"""Column mapping: which column (or JSON key) is the text, the id, the labels, the spans and
the metadata, and turning one source record into one validated example row.

A mapping is a JSON object; every key is optional and anything left out is auto-detected from
the header (CSV/TSV) or the first record's keys (JSONL, X JSON):

    {
      "text": "Tweet Text",                  # column holding the text
      "id": "Tweet ID",                     # external id ('quoted' ids are unquoted)
      "labels": "label",                    # one column of label names / values ...
      "labels": ["HS", "TR", "AG"],         # ... or 0/1 columns named after project labels
      "labels": {"HS": "hateful"},          # ... or 0/1 columns under other names
      "label_values": {"on-topic": "relevant", "off-topic": null},  # raw value -> label name
                                            #   (null: no label, i.e. a negative)
      "spans": "location_mentions",         # JSON list of {start, end, label} or IDRISI mentions
      "meta": {"created_at": "Date", "retweet_count": "Retweets"},  # meta key -> column
      "meta_defaults": {"event": "sandy"},  # constant metadata for every row
      "keep_extra": true,                   # unmapped columns go to meta under their own name
      "ignore": ["Favorites"],              # columns to drop
      "posted_at_from_id": true,            # posting time from the tweet ids in the id column
                                            #   (or name a column of ids); a date column wins
      "image": "image"                      # a file in the ZIP (format=zip) or base64 (JSONL)
    }

An `image` column is detected by name in ZIP manifests and JSONL; in CSV/TSV only when the
mapping names it. A row with an image may have no text (annotator/images/).

`posted_at_from_id` reads Twitter/X snowflake ids: the posting time is in the id (ms since the
Unix epoch = (id >> 22) + 1288834974657), for the many public tweet sets that ship ids without
dates. It fills `meta.created_at` (and so `posted_at`) where the row has no date of its own.

Dotted keys reach into JSON objects (`"public_metrics.retweet_count"`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from annotator.images.examples import image_content_hash
from annotator.importers.errors import ImportFailed, RowError
from annotator.importers.readers import Record
from annotator.importers.values import (
    TRUE_WORDS,
    parse_count,
    parse_datetime,
    parse_flag,
    parse_json_cell,
    parse_spans,
    snowflake_time,
    split_label_cell,
    split_names,
)
from annotator.normalize import content_hash, normalize
from config.text_safety import find_unsafe, unsafe_in_text

CLASSIFICATION = {"multilabel", "singlelabel", "binary", "multimodal-multilabel"}

_TEXT_NAMES = ("text", "tweet", "tweet text", "full text", "content", "body", "message")
_ID_NAMES = ("id", "tweet id", "tweetid", "id str", "external id", "status id")
_LABEL_NAMES = ("labels", "label")
_SPAN_NAMES = ("spans", "location mentions", "entities")
_IMAGE_NAMES = ("image", "image path", "image file", "img")
# Canonical meta key -> header spellings seen in the wild (compared after `_key`).
META_ALIASES: dict[str, tuple[str, ...]] = {
    "created_at": ("created at", "date", "timestamp", "created", "datetime", "time", "tweet date"),
    "retweet_count": ("retweet count", "retweets", "retweetcount", "rt count"),
    "favorite_count": ("favorite count", "favorites", "favourites", "likes", "like count"),
    "reply_count": ("reply count", "replies"),
    "quote_count": ("quote count", "quotes"),
    "lang": ("lang", "language"),
    "author": ("author", "user", "username", "user name", "screen name", "user id", "author id"),
    "event": ("event",),
    "geo": ("geo", "coordinates"),
}
_COUNT_KEYS = {"retweet_count", "favorite_count", "reply_count", "quote_count"}
# Vigia's own export carries every annotation here; on import it is informational only.
_ALWAYS_IGNORED = {"annotations"}
_KEY = re.compile(r"[\s_\-]+")


def _key(name: str) -> str:
    return _KEY.sub(" ", name.strip().lower()).strip()


class ColumnMapping(BaseModel):
    """The user-facing mapping (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    id: str | None = None
    labels: str | list[str] | dict[str, str] | None = None
    label_values: dict[str, str | None] = {}
    spans: str | None = None
    meta: dict[str, str] = {}
    meta_defaults: dict[str, Any] = {}
    keep_extra: bool = True
    ignore: list[str] = []
    # True: the id column holds tweet ids; a string: that column does.
    posted_at_from_id: bool | str | None = None
    image: str | None = None

    @classmethod
    def parse(cls, value: dict[str, Any] | ColumnMapping | None) -> ColumnMapping:
        if isinstance(value, ColumnMapping):
            return value
        try:
            return cls.model_validate(value or {})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'mapping'}: {e['msg']}" for e in exc.errors()
            )
            raise ImportFailed.single(f"mapping: {problems}") from None


def get_field(fields: dict[str, Any], name: str) -> Any:
    if name in fields:
        return fields[name]
    if "." in name:
        value: Any = fields
        for part in name.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value
    return None


@dataclass
class PreparedRow:
    """A validated row, ready for the writer."""

    line: int
    text: str
    normalized_text: str
    content_hash: str
    external_id: str
    meta: dict[str, Any]
    labels: list[str] | None = None  # None: no annotation in the file for this row
    spans: list[dict[str, Any]] | None = None
    image: str = ""  # the storage key its image will have ("" for none)
    image_width: int | None = None
    image_height: int | None = None


@dataclass
class ResolvedColumns:
    text: str | None
    id: str | None = None
    label_column: str | None = None
    label_columns: dict[str, str] = field(default_factory=dict)
    spans: str | None = None
    meta_json: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)
    # The column of tweet ids that gives posting times (mapping key posted_at_from_id).
    tweet_ids: str | None = None
    image: str | None = None


class RowBuilder:
    """Resolves a mapping against the columns once, then builds rows record by record."""

    def __init__(self, project: Any, mapping: ColumnMapping, fmt: str, images: Any = None) -> None:
        # images: an annotator.images.staging.ImageStager (None: the import takes no images)
        self.images = images
        self.mapping = mapping
        self.fmt = fmt
        self.task_type = project.task_type
        self.normalization = project.normalization
        self.allow_overlap = project.allow_overlapping_spans
        self.labels = list(project.labels.values_list("name", flat=True))
        self._by_lower = {name.lower(): name for name in self.labels}
        self.valid_text = ", ".join(self.labels) or "(the project has no labels)"
        self.columns: ResolvedColumns | None = None

    # --- resolution ------------------------------------------------------------------------
    def resolve(self, names: list[str], line: int, strict: bool) -> None:
        """Match the mapping against `names` (CSV header or the first JSON record's keys).
        `strict`: every mapped column must exist (true for CSV/TSV headers)."""
        m = self.mapping
        free = [n for n in names if n not in m.ignore and n not in _ALWAYS_IGNORED]
        by_key: dict[str, str] = {}
        for n in free:
            by_key.setdefault(_key(n), n)

        def take(explicit: str | None, candidates: tuple[str, ...], what: str) -> str | None:
            if explicit is not None:
                found = explicit if explicit in names else by_key.get(_key(explicit))
                if found is None:
                    if strict:
                        raise RowError(
                            line,
                            f"mapping: {what} column {explicit!r} is not in the header; "
                            f"columns: {', '.join(names)}",
                        )
                    found = explicit
                self._used.add(found)
                return found
            for cand in candidates:
                found = by_key.get(cand)
                if found is not None and found not in self._used:
                    self._used.add(found)
                    return found
            return None

        self._used: set[str] = set()
        text = take(m.text, _TEXT_NAMES, "text")
        # Columns named in the mapping are claimed before any auto-detection, so a column
        # mapped to metadata is never also detected as the id, the image or a label column.
        meta = {key: take(column, (), f"meta.{key}") or column for key, column in m.meta.items()}
        image = None
        if m.image is not None or (self.images is not None and self.fmt in ("zip", "jsonl")):
            image = take(m.image, _IMAGE_NAMES, "image")
        if text is None and image is None:
            raise RowError(
                line,
                f"no text column among {', '.join(names) or '(none)'}; name it in the mapping, "
                'e.g. {"text": "<column>"}',
            )
        cols = ResolvedColumns(text=text, image=image, meta=meta)
        cols.id = take(m.id, _ID_NAMES, "id")
        if isinstance(m.posted_at_from_id, str) and m.posted_at_from_id.strip():
            column = m.posted_at_from_id
            cols.tweet_ids = column if column == cols.id else take(column, (), "posted_at_from_id")
        elif m.posted_at_from_id is True:
            if cols.id is None:
                raise RowError(
                    line,
                    "mapping: posted_at_from_id needs the id column (the tweet ids), and none was "
                    f"found among {', '.join(names) or '(none)'}; name it, e.g. "
                    '{"id": "<column>", "posted_at_from_id": true}',
                )
            cols.tweet_ids = cols.id
        cols.meta_json = take(None, ("meta",), "meta")
        for key, aliases in META_ALIASES.items():
            if key not in cols.meta:
                found = take(None, (_key(key), *aliases), key)
                if found is not None:
                    cols.meta[key] = found
        if self.task_type in CLASSIFICATION:
            self._resolve_labels(cols, names, take, by_key)
        elif self.task_type == "spans" and self.fmt != "conll":
            cols.spans = take(m.spans, _SPAN_NAMES, "spans")
        if m.keep_extra:
            cols.extra = [n for n in free if n not in self._used and n.strip()]
        self.columns = cols

    def _resolve_labels(self, cols: ResolvedColumns, names: list[str], take: Any, by_key: dict) -> None:
        m = self.mapping
        if isinstance(m.labels, str):
            cols.label_column = take(m.labels, (), "labels")
            return
        if isinstance(m.labels, (list, dict)):
            pairs = m.labels.items() if isinstance(m.labels, dict) else [(n, n) for n in m.labels]
            for label, column in pairs:
                cols.label_columns[self.resolve_label(label)] = take(column, (), f"labels.{label}")
            return
        cols.label_column = take(None, _LABEL_NAMES, "labels")
        if cols.label_column is None:
            # HatEval style: one 0/1 column per project label, named after it.
            for label in self.labels:
                column = label if label in names else by_key.get(_key(label))
                if column is not None and column not in self._used:
                    self._used.add(column)
                    cols.label_columns[label] = column

    # --- per row ---------------------------------------------------------------------------
    def resolve_label(self, name: str) -> str:
        if name in self.labels:
            return name
        found = self._by_lower.get(name.strip().lower())
        if found is None:
            raise ValueError(f"unknown label {name!r}; valid labels: {self.valid_text}")
        return found

    def build(self, record: Record) -> PreparedRow:
        if self.columns is None:
            self.resolve(list(record.fields), record.line, strict=False)
        cols = self.columns
        assert cols is not None
        fields = record.fields
        line = record.line
        staged = self._image(fields, cols, line)
        text = get_field(fields, cols.text) if cols.text is not None else None
        if staged is not None and (text is None or (isinstance(text, str) and not text.strip())):
            text = ""  # an image-only row
        elif not isinstance(text, str) or not text.strip():
            what = "is empty" if isinstance(text, str) or text is None else "is not a string"
            raise RowError(line, f"column {cols.text!r}: the text {what}")
        bad = unsafe_in_text(text)
        if bad is not None:
            raise RowError(line, f"column {cols.text!r}: the text contains {bad[1]} at character {bad[0] + 1}")
        external_id = ""
        if cols.id is not None:
            raw_id = get_field(fields, cols.id)
            if raw_id is not None:
                external_id = str(raw_id).strip()
                # CrisisLex T6 writes ids as '262596552399396864'.
                if len(external_id) >= 2 and external_id[0] == external_id[-1] == "'":
                    external_id = external_id[1:-1].strip()
                if len(external_id) > 200:
                    raise RowError(line, f"column {cols.id!r}: the id is longer than 200 characters")
                bad = unsafe_in_text(external_id)
                if bad is not None:
                    raise RowError(line, f"column {cols.id!r}: the id contains {bad[1]}")
        meta = self._meta(fields, cols, line)
        unsafe = find_unsafe(meta, "meta")
        if unsafe is not None:
            raise RowError(line, f"{unsafe[0]}: {unsafe[1]}")
        labels: list[str] | None = None
        spans: list[dict[str, Any]] | None = None
        if self.task_type in CLASSIFICATION:
            labels = self._labels(fields, cols, line)
        elif self.task_type == "spans":
            spans = self._spans(record, cols, text)
        normalized = normalize(text, self.normalization) if text else ""
        digest = content_hash(normalized or text)
        if staged is not None:  # the same text with another image is another example
            digest = image_content_hash(normalized or text, staged.info.sha256)
        return PreparedRow(
            line=line,
            text=text,
            normalized_text=normalized,
            content_hash=digest,
            external_id=external_id,
            meta=meta,
            labels=labels,
            spans=spans,
            image=staged.key if staged else "",
            image_width=staged.info.width if staged else None,
            image_height=staged.info.height if staged else None,
        )

    def _image(self, fields: dict[str, Any], cols: ResolvedColumns, line: int) -> Any:
        if cols.image is None:
            return None
        value = get_field(fields, cols.image)
        if self.images is None:
            if value is None or (isinstance(value, str) and not value.strip()):
                return None
            raise RowError(line, f"column {cols.image!r}: images are imported from a ZIP (format=zip) "
                           "or as base64 in JSONL")
        try:
            return self.images.load(value)
        except ValueError as exc:  # ImageRefused
            raise RowError(line, f"column {cols.image!r}: {exc}") from None

    def _meta(self, fields: dict[str, Any], cols: ResolvedColumns, line: int) -> dict[str, Any]:
        meta: dict[str, Any] = dict(self.mapping.meta_defaults)
        if cols.meta_json is not None:
            raw = get_field(fields, cols.meta_json)
            try:
                value = parse_json_cell(raw, "meta")
            except ValueError as exc:
                raise RowError(line, f"column {cols.meta_json!r}: {exc}") from None
            if value is not None and not isinstance(value, dict):
                raise RowError(line, f"column {cols.meta_json!r}: meta must be a JSON object")
            meta.update(value or {})
        for key, column in cols.meta.items():
            value = get_field(fields, column)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            try:
                if key == "created_at":
                    value = parse_datetime(value)
                elif key in _COUNT_KEYS:
                    value = parse_count(value)
                elif isinstance(value, str):
                    value = value.strip()
            except ValueError as exc:
                raise RowError(line, f"column {column!r}: {exc}") from None
            meta[key] = value
        if cols.tweet_ids is not None and not meta.get("created_at"):
            value = get_field(fields, cols.tweet_ids)
            if value is not None and not (isinstance(value, str) and not value.strip()):
                try:
                    meta["created_at"] = snowflake_time(value)
                except ValueError as exc:
                    raise RowError(line, f"column {cols.tweet_ids!r}: {exc}") from None
        for column in cols.extra:
            value = fields.get(column)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            meta[column.strip()] = value.strip() if isinstance(value, str) else value
        return meta

    def _labels(self, fields: dict[str, Any], cols: ResolvedColumns, line: int) -> list[str] | None:
        if cols.label_columns:
            chosen: list[str] = []
            seen_any = False
            for label, column in cols.label_columns.items():
                try:
                    flag = parse_flag(get_field(fields, column))
                except ValueError as exc:
                    raise RowError(line, f"column {column!r}: {exc}") from None
                if flag is not None:
                    seen_any = True
                    if flag:
                        chosen.append(label)
            return chosen if seen_any else None
        if cols.label_column is None:
            return None
        column = cols.label_column
        try:
            names = split_label_cell(get_field(fields, column))
            if names is None:
                return None
            if self.task_type == "binary":
                return self._binary(names)
            return self._names(names)
        except ValueError as exc:
            raise RowError(line, f"column {column!r}: {exc}") from None

    def _binary(self, values: list[str]) -> list[str]:
        positive = self.labels[0] if self.labels else ""
        mapped = self.mapping.label_values
        for value in values:
            if mapped:
                if value not in mapped:
                    known = ", ".join(repr(k) for k in mapped)
                    raise ValueError(f"value {value!r} is not in label_values ({known})")
                target = mapped[value]
                if target is not None and self.resolve_label(target) == positive:
                    return [positive]
            elif value.lower() == positive.lower() or value.lower() in TRUE_WORDS:
                return [positive]
        return []

    def _names(self, values: list[str]) -> list[str]:
        mapped = self.mapping.label_values
        expanded: list[str] = []
        for value in values:
            if value in mapped or value.lower() in self._by_lower:
                expanded.append(value)
            else:
                expanded.extend(split_names(value))
        result: list[str] = []
        for value in expanded:
            target = mapped.get(value, value) if mapped else value
            if target is None:
                continue
            name = self.resolve_label(target)
            if name not in result:
                result.append(name)
        if self.task_type == "singlelabel" and len(result) > 1:
            raise ValueError(f"a single-label project takes one label, found {', '.join(result)}")
        return result

    def _spans(self, record: Record, cols: ResolvedColumns, text: str) -> list[dict[str, Any]] | None:
        if "conll_spans" in record.extra:
            spans = []
            for span in record.extra["conll_spans"]:
                try:
                    label = self.resolve_label(span["label"])
                except ValueError as exc:
                    raise RowError(span["line"], str(exc)) from None
                spans.append({"start": span["start"], "end": span["end"], "label": label})
            return spans
        if cols.spans is None:
            return None
        raw = get_field(record.fields, cols.spans)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        try:
            return parse_spans(raw, text, self.resolve_label, self.allow_overlap)
        except ValueError as exc:
            raise RowError(record.line, f"column {cols.spans!r}: {exc}") from None
