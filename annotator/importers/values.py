"""Cell values to typed values: dates, counts, label lists, character-offset spans.

Every function raises ValueError with a message meant for the person who wrote the file; the
caller adds the line and column.
"""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from config.inputs import InvalidInput, InvalidJSON, loads_json, parse_float

# X API v1 (IDRISI, CrisisLex T26 id files): "Sun Nov 11 05:54:01 +0000 2018".
_DATE_FORMATS = (
    "%a %b %d %H:%M:%S %z %Y",
    "%m-%d-%Y %H:%M:%S",  # Trump Twitter Archive exports
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d %b %Y %H:%M:%S",
)
TRUE_WORDS = {"1", "true", "yes", "y", "t", "positive", "pos"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "negative", "neg", ""}
_SPLIT = re.compile(r"\s*[|;,]\s*")


def parse_datetime(value: Any) -> str:
    """ISO 8601 in UTC (`2018-11-11T05:54:01+00:00`); naive times are taken as UTC."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC).isoformat()
        except (OverflowError, OSError, ValueError):  # 1e300 seconds: no calendar holds it
            raise ValueError(f"{value!r} is not a timestamp Vigia can read") from None
    text = str(value).strip()
    if text.isdigit() and len(text) in (10, 13):
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise ValueError(
            f"cannot read the date {text!r} (expected ISO 8601 like 2018-06-24 19:08:51 or "
            "the X API form Sun Nov 11 05:54:01 +0000 2018)"
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat()


# Twitter/X snowflake ids (since 2010-11-04): the top 41 bits count milliseconds from this
# epoch (1288834974657 ms after the Unix epoch), so every tweet id carries its posting time.
TWITTER_EPOCH_MS = 1288834974657
# Ids of tweets from before snowflake were sequential (below ~3e10): read as snowflakes they
# would fall within seconds of the epoch. A day after it is far above them.
_MIN_SNOWFLAKE_MS = 24 * 3600 * 1000


def snowflake_time(value: Any) -> str:
    """The posting time (ISO 8601, UTC) of a tweet from its snowflake id: milliseconds since
    the Unix epoch = (id >> 22) + 1288834974657. `'348265352758702081'` (CrisisLex quotes its
    ids) is read as the digits inside the quotes."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{value!r} is not a tweet id (expected the id's digits)")
    text = str(value).strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        text = text[1:-1].strip()
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"{text[:40]!r} is not a tweet id (expected the id's digits)")
    offset_ms = int(text) >> 22
    if offset_ms < _MIN_SNOWFLAKE_MS:
        raise ValueError(
            f"{text} is not a snowflake tweet id: ids of tweets posted before November 2010 "
            "carry no time"
        )
    try:
        posted = datetime.fromtimestamp((offset_ms + TWITTER_EPOCH_MS) / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{text[:40]} is not a tweet id (its time is past the year 9999)") from None
    if posted.timestamp() > time.time() + 86400:
        raise ValueError(f"{text} is not a tweet id: its time, {posted:%Y-%m-%d}, is in the future")
    return posted.isoformat()


def posted_at_of(meta: Any) -> datetime | None:
    """Example.posted_at from meta["created_at"] (None when absent or unreadable)."""
    if not isinstance(meta, dict) or meta.get("created_at") in (None, ""):
        return None
    try:
        return datetime.fromisoformat(parse_datetime(meta["created_at"]))
    except (ValueError, TypeError, OverflowError, OSError):
        return None


def parse_count(value: Any) -> int:
    """A non-negative count such as retweets ("1,234" and "12.0" are accepted)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a count, found {value!r}")  # noqa: TRY004 - a user-facing message
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().replace(",", "").replace("_", "")
        try:
            number_f = parse_float(text, "count")  # "1e400" and "nan" are refused, not overflowed
        except InvalidInput:
            raise ValueError(f"expected a whole number, found {str(value)!r}") from None
        if not number_f.is_integer():
            raise ValueError(f"expected a whole number, found {str(value)!r}")
        number = int(number_f)
    if number < 0:
        raise ValueError(f"expected a count (0 or more), found {number}")
    return number


def parse_flag(value: Any) -> bool | None:
    """A 0/1 label cell. None when the cell is empty (the row is unlabelled for that label)."""
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    text = str(value).strip().lower()
    if text == "":
        return None
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"expected 0/1 (or true/false), found {str(value)!r}")


def split_label_cell(value: Any) -> list[str] | None:
    """Label names in one cell: a JSON list (`["HS", "AG"]`, what Vigia exports), a list value
    from JSON, or names separated by | , or ;. None for an empty cell (unlabelled)."""
    if value is None:
        return None
    if isinstance(value, list):
        return [str(v).strip() for v in value]
    if isinstance(value, bool):
        return ["1" if value else "0"]
    text = str(value).strip()
    if not text:
        return None
    if text.startswith("["):
        try:
            parsed = loads_json(text, "labels", check_text=False)
        except InvalidJSON:
            raise ValueError(f"labels {text[:60]!r} look like a JSON list but are not valid JSON") from None
        except InvalidInput as exc:
            raise ValueError(f"{exc.field}: {exc.message}") from None
        if not isinstance(parsed, list):
            raise ValueError("labels must be a JSON list of names")
        return [str(v).strip() for v in parsed]
    return [text]


def split_names(text: str) -> list[str]:
    return [part for part in _SPLIT.split(text) if part]


def parse_json_cell(value: Any, what: str) -> Any:
    """A JSON value stored in a CSV cell (Vigia's own exports do this for meta and spans)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return loads_json(text, what, check_text=False)
    except InvalidJSON as exc:
        raise ValueError(f"{what} is not valid JSON ({exc.msg})") from None
    except InvalidInput as exc:
        raise ValueError(f"{exc.field}: {exc.message}") from None


def _span_int(item: dict[str, Any], keys: tuple[str, ...]) -> int:
    for key in keys:
        if key in item:
            value = item[key]
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, str) and value.strip().isdigit():
                    return int(value)
                raise ValueError(f"span {key} must be an integer, found {value!r}")
            return value
    raise ValueError(f"span needs one of {' / '.join(keys)}")


def parse_spans(value: Any, text: str, resolve_label: Any, allow_overlap: bool) -> list[dict[str, Any]]:
    """Spans as `[{"start", "end", "label"}]` character offsets into `text`, sorted.

    Accepts Vigia's own shape and IDRISI's `{"text", "type", "start_offset", "end_offset"}`.
    When a span carries its surface text and the offsets do not select it (IDRISI has an
    emoji span counted in UTF-16 units), the span moves to the nearest occurrence of that text;
    with no occurrence it is an error.
    """
    if value is None:
        return []
    if isinstance(value, str):
        value = parse_json_cell(value, "spans")
        if value is None:
            return []
    if not isinstance(value, list):
        raise ValueError("spans must be a list of {start, end, label} objects")  # noqa: TRY004
    spans: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ValueError(f"span #{i + 1} is not an object")  # noqa: TRY004
        start = _span_int(item, ("start", "start_offset"))
        end = _span_int(item, ("end", "end_offset"))
        raw_label = item.get("label", item.get("type"))
        if raw_label is None:
            raise ValueError(f"span #{i + 1} has no label (or type)")
        label = resolve_label(str(raw_label))
        surface = item.get("text")
        if isinstance(surface, str) and surface and (end > len(text) or text[start:end] != surface):
            start, end = _realign(text, surface, start)
        if not (0 <= start < end <= len(text)):
            raise ValueError(
                f"span #{i + 1} [{start}, {end}) is outside the text (0 <= start < end <= {len(text)})"
            )
        spans.append({"start": start, "end": end, "label": label})
    spans.sort(key=lambda s: (s["start"], s["end"]))
    if not allow_overlap:
        for a, b in pairwise(spans):
            if b["start"] < a["end"]:
                raise ValueError(
                    f"spans [{a['start']}, {a['end']}) and [{b['start']}, {b['end']}) overlap "
                    "(the project does not allow overlapping spans)"
                )
    return spans


def _realign(text: str, surface: str, near: int) -> tuple[int, int]:
    positions = [m.start() for m in re.finditer(re.escape(surface), text)]
    if not positions:
        raise ValueError(f"span text {surface!r} does not occur in the text")
    best = min(positions, key=lambda p: abs(p - near))
    return best, best + len(surface)
