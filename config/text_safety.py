"""The one place that decides which characters Vigia refuses in stored text.

PostgreSQL cannot store NUL (U+0000) in `text` or `jsonb`, and a lone UTF-16 surrogate
(U+D800..U+DFFF, e.g. JSON's "\\ud800") cannot be encoded as UTF-8: both used to end in a 500.
They are refused (never stripped silently: a changed text would no longer match its source),
with the field and position named. The REST parser (`annotator.api.parsers`) and the importer
(`annotator.importers.mapping`) both call `find_unsafe`, so the rule and its wording are the same
for an upload and for a JSON body.

Undecodable bytes of an imported file arrive here as surrogate escapes (U+DC80..U+DCFF, the file
is read with errors="surrogateescape"); `undecodable_byte` tells those apart so the importer can
name the byte and guess the file's real encoding.
"""
from __future__ import annotations

import re
from typing import Any

_UNSAFE = re.compile("[\x00\ud800-\udfff]")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def describe(char: str) -> str:
    if char == "\x00":
        return "a NUL character (U+0000)"
    return f"a lone surrogate (U+{ord(char):04X}), which is not valid Unicode text"


def unsafe_in_text(value: str) -> tuple[int, str] | None:
    """(offset, description) of the first character that cannot be stored, or None."""
    match = _UNSAFE.search(value)
    if match is None:
        return None
    return match.start(), describe(match.group())


def find_unsafe(value: Any, path: str = "") -> tuple[str, str] | None:
    """(path, message) of the first string (or object key) in `value` holding a character that
    cannot be stored; None when everything is clean. `path` is dotted (`meta.author`,
    `labels.2`)."""
    if isinstance(value, str):
        found = unsafe_in_text(value)
        if found is None:
            return None
        offset, what = found
        return path, f"contains {what} at character {offset + 1}"
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and unsafe_in_text(key) is not None:
                offset, what = unsafe_in_text(key)  # type: ignore[misc]
                return path or "(object key)", f"a key contains {what} at character {offset + 1}"
            found_child = find_unsafe(item, child)
            if found_child is not None:
                return found_child
        return None
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found_item = find_unsafe(item, f"{path}.{i}" if path else str(i))
            if found_item is not None:
                return found_item
    return None


def for_display(value: str) -> str:
    """`value` with every character that cannot be stored or sent as UTF-8 spelled out
    (`\\x00`, `\\ud800`): the import preview shows a file's cells as they are, and a lone
    surrogate in a page would make its UTF-8 encoding fail (a 500)."""
    if _UNSAFE.search(value) is None:
        return value
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), value)


def undecodable_byte(value: str) -> tuple[int, int] | None:
    """(offset, byte value) of the first surrogate-escaped byte in `value`, or None."""
    match = _ESCAPED_BYTE.search(value)
    if match is None:
        return None
    return match.start(), ord(match.group()) - 0xDC00


def guess_encoding(raw: bytes) -> str:
    """A guess at the encoding of bytes that are not UTF-8 (for the error message)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or raw[:200].count(b"\x00") > len(raw[:200]) // 4:
        return "UTF-16"
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return "ISO-8859-1 (Latin-1)"
    return "Windows-1252 (cp1252)"
