"""REST body parsers that refuse characters the database cannot store.

Every JSON, form and multipart body goes through `annotator.text_safety.find_unsafe`: a NUL or a
lone surrogate anywhere in it is a 400 naming the field (`{"meta.author": ["contains a NUL
character (U+0000) at character 3"]}`), never a 500 from PostgreSQL. The importer applies the
same rule to file contents.
"""
from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from annotator.text_safety import find_unsafe


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
        data = super().parse(stream, media_type, parser_context)
        _refuse_unsafe(data)
        return data


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
