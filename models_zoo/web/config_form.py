"""HTML form fields built from a backend's pydantic JSON schema, and the reverse: form values
back into a config dict (pydantic then validates it, so errors name the field)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from config.inputs import InvalidInput, loads_json

PREFIX = "cfg__"


@dataclass
class ConfigField:
    name: str
    title: str
    kind: str  # "integer" | "number" | "string" | "boolean" | "choice" | "json"
    default: Any
    description: str
    choices: list[Any]
    nullable: bool
    value: Any = None

    @property
    def input_name(self) -> str:
        return PREFIX + self.name

    @property
    def shown(self) -> str:
        """The value to pre-fill: the submitted one, else the default."""
        value = self.default if self.value is None else self.value
        if value is None:
            return ""
        if self.kind == "json":
            return value if isinstance(value, str) else json.dumps(value)
        if self.kind == "boolean":
            return "true" if value in (True, "true") else "false"
        return str(value)


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref")
    if ref:
        return {**defs.get(ref.rsplit("/", 1)[-1], {}), **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop


def fields_from_schema(schema: dict[str, Any], values: dict[str, Any] | None = None) -> list[ConfigField]:
    """One field per top-level property; nested or union types fall back to a JSON text box."""
    defs = schema.get("$defs", {})
    values = values or {}
    out = []
    for name, raw in schema.get("properties", {}).items():
        prop = _resolve(raw, defs)
        nullable = False
        options = prop.get("anyOf")
        if options:
            non_null = [_resolve(o, defs) for o in options if o.get("type") != "null"]
            nullable = len(non_null) < len(options)
            if len(non_null) == 1:
                prop = {**non_null[0], **{k: v for k, v in prop.items() if k != "anyOf"}}
        if "enum" in prop:
            kind, choices = "choice", list(prop["enum"])
        elif "const" in prop:
            kind, choices = "choice", [prop["const"]]
        else:
            kind = prop.get("type") if prop.get("type") in {"integer", "number", "string", "boolean"} else "json"
            choices = []
        out.append(ConfigField(
            name=name, title=raw.get("title", name), kind=kind, default=raw.get("default", prop.get("default")),
            description=raw.get("description", prop.get("description", "")), choices=choices,
            nullable=nullable, value=values.get(name),
        ))
    return out


def config_from_form(schema: dict[str, Any], data: Any) -> dict[str, Any]:
    """Submitted form values -> config dict. Empty boxes are left out (the default applies);
    "null"/empty for nullable fields means None; JSON boxes are parsed (bad JSON stays a string
    so pydantic reports the field)."""
    config: dict[str, Any] = {}
    for field in fields_from_schema(schema):
        raw = data.get(field.input_name)
        if raw is None:
            continue
        raw = raw.strip()
        if raw == "":
            if field.nullable and field.default is not None:
                config[field.name] = None
            continue
        if field.nullable and raw.lower() in {"null", "none"}:
            config[field.name] = None
        elif field.kind == "json":
            try:
                config[field.name] = loads_json(raw, field.name)
            except InvalidInput:  # pydantic names the field when the text is not what it takes
                config[field.name] = raw
        elif field.kind == "choice":
            # Choices may be numbers: match the submitted text against their string forms.
            match = [c for c in field.choices if str(c) == raw]
            config[field.name] = match[0] if match else raw
        else:
            # pydantic's lax mode turns "3", "0.5", "true" into the declared types.
            config[field.name] = raw
    return config
