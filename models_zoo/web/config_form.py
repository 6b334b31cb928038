"""HTML form fields built from a backend's pydantic JSON schema, and the reverse: form values
back into a config dict (pydantic then validates it, so errors name the field).

Two form hints come from the schema (models_zoo.backends.base): "group" ("validation" gathers
the split, seed and threshold settings in one fieldset) and "shown_when" (a field shown only
while another field has one of some values). The showing and hiding is CSS (`:has()` on the
selected option, `conditional_css`), so the form needs no JavaScript; every field is submitted
either way, and a hidden one keeps its default.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from config.inputs import InvalidInput, loads_json
from models_zoo.model_roots import checkpoint_dirs

PREFIX = "cfg__"
VALIDATION = "validation"
# Names and values that go into the generated CSS selectors verbatim.
_CSS_SAFE = re.compile(r"^[A-Za-z0-9_.-]+$")


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
    group: str = ""  # VALIDATION, or "" for the model's own settings
    shown_when: dict[str, list[str]] = dataclass_field(default_factory=dict)  # {field name: [values as shown]}
    # Checkpoint directories found under the model roots: (name, model type), for a datalist.
    suggestions: list[tuple[str, str]] = dataclass_field(default_factory=list)

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
            name=name, title=raw.get("title") or name.replace("_", " ").title(), kind=kind, default=raw.get("default", prop.get("default")),
            description=raw.get("description", prop.get("description", "")), choices=choices,
            nullable=nullable, value=values.get(name), group=str(raw.get("group") or ""),
            shown_when={str(k): [_shown(v) for v in vs] for k, vs in (raw.get("shown_when") or {}).items()},
        ))
    return out


def _shown(value: Any) -> str:
    """A value as the form's <option> carries it (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_groups(fields: list[ConfigField]) -> list[tuple[str, list[ConfigField]]]:
    """(legend, fields) in form order: the model's own settings, then the validation ones."""
    groups = [("Model", [f for f in fields if f.group != VALIDATION]),
              ("Validation: split, seed and thresholds", [f for f in fields if f.group == VALIDATION])]
    return [(legend, members) for legend, members in groups if members]


def conditional_css(fields: list[ConfigField], container_id: str = "config-fields") -> SafeString:
    """CSS that hides each `shown_when` field while its controlling <select> has none of the
    values: `#c:not(:has(#id_cfg__head option[value="random_forest"]:checked)) [data-field="n_estimators"]`.
    Wrapped in `@supports selector(:has(*))`, so a browser without `:has()` shows every field
    (still a working form). Only names and values of plain characters are used."""
    names = {f.name for f in fields}
    rules = []
    for f in fields:
        for controller, values in f.shown_when.items():
            safe = [v for v in values if _CSS_SAFE.match(v)]
            if controller not in names or not safe or not _CSS_SAFE.match(f.name + controller):
                continue
            options = ", ".join(
                f'#id_{PREFIX}{controller} option[value="{v}"]:checked' for v in safe
            )
            rules.append(f'#{container_id}:not(:has({options})) [data-field="{f.name}"] {{ display: none; }}')
    if not rules:
        return mark_safe("")
    return mark_safe("@supports selector(:has(*)) {\n" + "\n".join(rules) + "\n}")


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


def suggest_checkpoints(fields: list[ConfigField], backend: Any) -> None:
    """Offer the checkpoint directories found under the model roots (VIGIA_MODEL_DIRS) on the
    backend's model-directory fields (e.g. `clip_fusion`'s `clip`); a field whose name says
    which family it wants (clip) lists that family first."""
    paths = getattr(getattr(backend, "Config", None), "model_path_fields", {}) or {}
    wanted = [f for f in fields if paths.get(f.name) == "directory"]
    if not wanted:
        return
    found = checkpoint_dirs()
    for field in wanted:
        family = [c for c in found if field.name.lower() in c[1].lower()]
        field.suggestions = family + [c for c in found if c not in family]
