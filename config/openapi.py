"""OpenAPI postprocessing: the error shapes every endpoint shares, documented once.

Views document their own 400 (`{"detail"}`, `{"errors": [...]}`, a serializer's fields), but
every endpoint can also answer the shared shapes of `config.api_errors` and
`config.query_guard`: `{field: [messages]}` (a field the JSON or number parser refused, named
with a dotted path for nested values) and `{"detail"}`. Each documented 400 therefore accepts
`FieldErrors` too, and every operation documents 503 (`{"detail"}`, the task queue or the
database is unavailable), so schemathesis' response-schema check holds for all of them.
"""
from __future__ import annotations

from typing import Any

FIELD_ERRORS = {
    "type": "object",
    "description": "A 400 naming what was refused: each key a field (dotted for nested JSON, "
    "e.g. `meta.author`, `spans.0.start`) or query parameter, each value its messages; "
    "`detail` for a problem with no single field.",
    "properties": {"detail": {"type": "string"}},
    # Messages: a list of strings, or nested like the JSON it names (DRF's nested serializers).
    "additionalProperties": {"anyOf": [{"type": "array"}, {"type": "object"}]},
}
# What a list endpoint answers when its rows have no serializer: documented as an array (an
# object here was one of the response-schema violations schemathesis found).
OBJECT_LIST: dict[str, Any] = {"type": "array", "items": {"type": "object"}}
DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}


def document_shared_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry (see the module docstring)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["FieldErrors"] = FIELD_ERRORS
    schemas["Unavailable"] = DETAIL
    field_errors = {"$ref": "#/components/schemas/FieldErrors"}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            bad = responses.get("400")
            if bad is None:
                responses["400"] = {"description": "A value was refused",
                                    "content": {"application/json": {"schema": field_errors}}}
            else:
                content = bad.setdefault("content", {})
                current = content.get("application/json", {}).get("schema")
                schema = field_errors if current is None else {"anyOf": [current, field_errors]}
                content["application/json"] = {"schema": schema}
            responses.setdefault("503", {
                "description": "The task queue or the database is unavailable; nothing was started "
                "or stored (Retry-After)",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Unavailable"}}},
            })
    return result
