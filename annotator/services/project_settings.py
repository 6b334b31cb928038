"""Retrain policy and auto-promote settings of a project: one check for every edge.

The project service (`create_project`, `update_project`) calls `check_retrain_settings`, and the
REST API, the project settings pages and the models page's policy form all go through it, so a
bad `retrain_every` or a backend that cannot train this task type is refused with the same
message everywhere (it used to be checked in one view and not at all over REST).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from annotator.models import Normalization
from annotator.services.errors import ProjectRuleError
from config import hooks
from config.inputs import INT32_MAX, INT64_MIN, InvalidInput, parse_int


def backends_for_task(task_type: str) -> list[str]:
    """Names of the registered backends that train `task_type` (models_zoo's catalog, asked
    through config.hooks)."""
    return [b["name"] for b in hooks.call("backends_for", task_type)]


def default_backend(task_type: str) -> str:
    """The retrain backend a new project gets when none is chosen: embedding_head where it
    trains the task type, else the first backend that does (span_tagger for spans)."""
    valid = backends_for_task(task_type)
    if "embedding_head" in valid or not valid:
        return "embedding_head"
    return valid[0]


def parse_retrain_every(raw: Any) -> int | None:
    """A form's or a JSON body's `retrain_every`: empty / None / 0 mean off (None)."""
    try:
        # The column is a PositiveIntegerField: 2**31 - 1 at most.
        every = parse_int(raw, "retrain_every", default=None, lo=INT64_MIN, hi=INT32_MAX)
    except InvalidInput as exc:
        message = f"retrain_every must be a whole number >= 1, or empty for off; got {raw!r}."
        if "between" in exc.message:
            message = f"retrain_every {exc.message}."
        raise ProjectRuleError(message, "retrain_every") from None
    if every is not None and every < 0:
        raise ProjectRuleError(
            f"retrain_every must be a whole number >= 1, or empty for off; got {every}.",
            "retrain_every",
        )
    return every or None


def check_retrain_settings(fields: Mapping[str, Any], task_type: str,
                           current_backend: str | None = None) -> dict[str, Any]:
    """Validate the plain settings given (overlap, normalization, flags) and the retrain policy
    (`retrain_every`, `retrain_backend`, `auto_promote`); returns the fields with retrain_every
    normalised (0 -> None). The backend must train `task_type` (not re-checked when it is the
    project's `current_backend` of an unchanged task type: that check imports the backends)."""
    out = dict(fields)
    if "overlap" in fields:
        overlap = fields["overlap"]
        if isinstance(overlap, bool) or not isinstance(overlap, int) or not 1 <= overlap <= 100:
            raise ProjectRuleError(
                f"overlap must be a whole number from 1 to 100, got {overlap!r}.", "overlap"
            )
    if "normalization" in fields and fields["normalization"] not in Normalization.values:
        raise ProjectRuleError(
            f"unknown normalization {fields['normalization']!r}; valid: "
            f"{', '.join(Normalization.values)}.", "normalization",
        )
    for flag in ("allow_overlapping_spans",):
        if flag in fields and not isinstance(fields[flag], bool):
            raise ProjectRuleError(f"{flag} must be true or false.", flag)
    if "retrain_every" in fields:
        out["retrain_every"] = parse_retrain_every(fields["retrain_every"])
    backend = fields.get("retrain_backend")
    if backend and backend != current_backend:
        valid = backends_for_task(task_type)
        if backend not in valid:
            raise ProjectRuleError(
                f"backend {backend!r} cannot train a {task_type} project; valid: "
                f"{', '.join(valid) or '(none installed)'}.",
                "retrain_backend",
            )
    if "auto_promote" in fields and not isinstance(fields["auto_promote"], bool):
        raise ProjectRuleError("auto_promote must be true or false.", "auto_promote")
    return out
