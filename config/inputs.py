"""The one place hostile input is parsed: JSON bodies, and numbers wherever they come from.

- `loads_json(text)` is the JSON decoder of every endpoint (the REST parser
  `annotator.api.parsers.SafeJSONParser`, and pages or forms that take JSON in a field). It
  refuses, with `InvalidInput` naming the field: nesting deeper than `MAX_JSON_DEPTH` (Python's
  recursive decoder and every recursive walk after it would raise RecursionError, a 500),
  `NaN`, `Infinity` and numbers too large for a double (`1e400` decodes to infinity, which
  neither PostgreSQL's jsonb nor a JSON answer can hold), integers outside int64 (no column is
  wider), and strings holding NUL or a lone surrogate (`config.text_safety`).
- `parse_int` / `parse_float` turn one value (from JSON, a form or a query string) into a
  number within bounds, or raise `InvalidInput(field, message)`: `null` or `""` where a number
  is required, `true`, `"abc"`, `1.5` for an integer, NaN, infinity, and anything outside the
  stated range (by default int64; pass the column's range) are refused with the field named.
  Every service that reads a number calls them, so `int(float("inf"))` (OverflowError) and
  `1 <= None` (TypeError) cannot happen anywhere.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from config.text_safety import find_unsafe

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1  # IntegerField / PositiveIntegerField columns
# Deep enough for any body Vigia takes (a project's metadata is a few levels); far below the
# recursion limit of the decoder and of every walk over the decoded value.
MAX_JSON_DEPTH = 64
_INTEGER = re.compile(r"[+-]?\d+")
_MISSING: Any = object()


class InvalidInput(ValueError):
    """A value that cannot be accepted; `field` names it (dotted for nested JSON)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field or "body"
        self.message = message

    def as_dict(self) -> dict[str, list[str]]:
        """The REST body of the 400: `{field: [message]}`."""
        return {self.field: [self.message]}


class InvalidJSON(InvalidInput):
    """The text is not JSON at all: `msg` at `lineno`, `colno` (1-based; 0 when unknown)."""

    def __init__(self, field: str, message: str, msg: str = "", lineno: int = 0, colno: int = 0) -> None:
        super().__init__(field, message)
        self.msg, self.lineno, self.colno = msg or message, lineno, colno


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- numbers ---------------------------------------------------------------------------------


def parse_int(
    value: Any, field: str, *, default: Any = _MISSING, lo: int = INT64_MIN, hi: int = INT64_MAX
) -> int:
    """`value` as an int in [lo, hi]. None or "" gives `default` (an error when there is none,
    e.g. a `null` where a number is required). Whole floats (`3.0`) and digit strings are
    accepted; booleans, fractions, NaN and infinity are not."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is not _MISSING:
            return default
        raise InvalidInput(field, f"must be an integer from {lo} to {hi}, not null")
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            number = int(value)
        elif not math.isfinite(value):
            raise InvalidInput(field, f"must be a finite integer, not {_show(value)}")
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        digits = value.strip()
        # Python refuses to parse more than 4,300 digits (ValueError); nothing that long fits.
        number = int(digits) if len(digits.lstrip("+-")) <= 40 else None
        if number is None:
            raise InvalidInput(field, f"must be between {lo} and {hi}")
    if number is None:
        raise InvalidInput(field, f"must be an integer, not {_show(value)}")
    if not lo <= number <= hi:
        raise InvalidInput(field, _range_message(number, lo, hi))
    return number


def _range_message(number: int, lo: int, hi: int) -> str:
    # "at least 1" reads better than "between 1 and 9223372036854775807" when only one bound
    # is the point; a narrow range is given whole.
    if number < lo and hi >= INT32_MAX:
        return f"must be at least {lo}"
    if number > hi and lo <= -INT32_MAX:
        return f"must be at most {hi}"
    return f"must be between {lo} and {hi}"


def parse_float(
    value: Any, field: str, *, default: Any = _MISSING, lo: float | None = None,
    hi: float | None = None,
) -> float:
    """`value` as a finite float in [lo, hi] (either bound optional). None or "" gives
    `default` (an error when there is none); NaN, infinity, `1e400` and booleans are refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is not _MISSING:
            return default
        raise InvalidInput(field, "must be a number, not null")
    number: float | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an int beyond a double's range
            raise InvalidInput(field, "must be a finite number") from None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None:
        raise InvalidInput(field, f"must be a number, not {_show(value)}")
    if not math.isfinite(number):
        raise InvalidInput(field, f"must be a finite number, not {_show(value)}")
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        low = "-inf" if lo is None else f"{lo:g}"
        high = "inf" if hi is None else f"{hi:g}"
        raise InvalidInput(field, f"must be between {low} and {high}")
    return number


# --- JSON --------------------------------------------------------------------------------------

class _Huge(int):
    """An integer literal too long to be any column's value (parsed lazily, never stored)."""


def _parse_int_literal(text: str) -> int:
    # int() of more than 4,300 digits raises inside the decoder (a ValueError with no position
    # the client can use); a literal past 20 digits is out of every range anyway.
    return _Huge(0) if len(text.lstrip("-")) > 20 else int(text)


def check_json_value(value: Any, path: str = "", *, check_text: bool = True) -> None:
    """Raise InvalidInput for the first non-finite number, out-of-range integer or (unless
    `check_text` is off: the importer names line and column itself) string that cannot be
    stored in an already decoded JSON value. The walk is bounded by MAX_JSON_DEPTH."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:  # named by its top-level field: the full path is 64 deep
            raise InvalidInput(where.split(".")[0] or "body", f"nests deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, _Huge) or (isinstance(item, int) and not INT64_MIN <= item <= INT64_MAX):
            raise InvalidInput(where or "body", f"integer out of range ({INT64_MIN} to {INT64_MAX})")
        if isinstance(item, float) and not math.isfinite(item):
            raise InvalidInput(
                where or "body",
                "must be a finite number (not NaN, Infinity or beyond 1.8e308)",
            )
        if isinstance(item, str):
            found = find_unsafe(item, where) if check_text else None
            if found is not None:
                raise InvalidInput(found[0] or "body", found[1])
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                child_path = f"{where}.{key}" if where else str(key)
                found = find_unsafe(str(key)) if check_text else None
                if found is not None:
                    raise InvalidInput(where or "(object key)", f"a key {found[1]}")
                stack.append((child, child_path, depth + 1))
        elif isinstance(item, (list, tuple)):
            for i in range(len(item) - 1, -1, -1):
                stack.append((item[i], f"{where}.{i}" if where else str(i), depth + 1))


def loads_json(text: str | bytes, field: str = "body", *, check_text: bool = True) -> Any:
    """Decode JSON under Vigia's rules (module docstring); InvalidInput names the field and,
    for syntax errors (InvalidJSON), the line and column. `check_text=False` leaves NUL and
    surrogates to the caller (the importer reports them with their line and column)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidJSON(field, f"is not UTF-8 (byte {exc.start + 1})") from None
    try:
        value = json.loads(text, parse_int=_parse_int_literal)
    except json.JSONDecodeError as exc:
        raise InvalidJSON(field, f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                          exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        # The C decoder stops at the interpreter's recursion limit (about 1,000 levels) at once;
        # anything shallower is decoded and then held to MAX_JSON_DEPTH by the walk below.
        raise InvalidInput(field, f"JSON nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:
        raise InvalidJSON(field, f"is not valid JSON: {exc}") from None
    prefix = "" if field == "body" else field
    check_json_value(value, prefix, check_text=check_text)
    return value
