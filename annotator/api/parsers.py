"""REST body parsers: every JSON, form and multipart body goes through Vigia's input rules.

JSON is decoded by `config.inputs.loads_json`, the one JSON decoder of every endpoint: nesting
deeper than 64 levels, NaN, Infinity, `1e400`, integers outside int64, and NUL or a lone
surrogate anywhere are a 400 naming the field (`{"meta.author": ["contains a NUL character
(U+0000) at character 3"]}`), never a 500 (RecursionError, OverflowError, PostgreSQL's "integer
out of range"). A body that is not JSON at all is DRF's usual `{"detail": "JSON parse error -
..."}`. Form and multipart values get the NUL/surrogate rule (`config.text_safety`), which
the importer applies to file contents too.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from config.inputs import InvalidInput, InvalidJSON, loads_json
from config.text_safety import find_unsafe


def _refuse_unsafe(data: Any) -> None:
    if hasattr(data, "lists"):  # a QueryDict: every value of every key, named by the key
        for key, values in data.lists():
            for value in (key, *values):
                found = find_unsafe(value, key)
                if found is not None:
                    raise ValidationError({key or "body": [found[1]]})
        return
    found = find_unsafe(data)
    if found is not None:
        path, message = found
        raise ValidationError({path or "body": [message]})


class SafeJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - the body is not {encoding} text: {exc}") from None
        try:
            return loads_json(text)
        except InvalidJSON as exc:
            raise ParseError(f"JSON parse error - {exc.message}") from None
        except InvalidInput as exc:
            raise ValidationError(exc.as_dict()) from None


class SafeFormParser(FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _refuse_unsafe(data)
        return data


class SafeMultiPartParser(MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        result = super().parse(stream, media_type, parser_context)
        _refuse_unsafe(result.data)
        return result
