"""Checks of a project's training defaults (issue 12): the threshold objective, per-label
targets and the validation split; `ProjectRuleError` names the field."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from annotator.services.projects import ProjectRuleError


def check_training_defaults(fields: Mapping[str, Any], labels: Sequence[str] | None = None) -> None:
    """Threshold objective, targets and validation split (issue 12); with `labels`, target
    names must be labels of the project."""
    from pydantic import ValidationError

    from models_zoo.splits import parse_split
    from models_zoo.thresholds import OBJECTIVES, check_targets

    objective = fields.get("threshold_objective")
    if objective and objective not in OBJECTIVES:
        raise ProjectRuleError(
            f"unknown threshold objective {objective!r}; valid: {', '.join(OBJECTIVES)} "
            "(empty: the backend's default).", "threshold_objective",
        )
    targets = fields.get("threshold_targets")
    if "threshold_targets" in fields:
        if not isinstance(targets, Mapping):
            raise ProjectRuleError(
                "threshold_targets must be an object {label: target} ({} for none).",
                "threshold_targets",
            )
        problems = check_targets(targets, labels if labels is not None else list(targets))
        if problems:
            raise ProjectRuleError("; ".join(problems) + ".", "threshold_targets")
    split = fields.get("validation_split")
    if "validation_split" in fields:
        if not isinstance(split, Mapping):
            raise ProjectRuleError(
                "validation_split must be an object ({} for the default random split).",
                "validation_split",
            )
        try:
            parse_split(dict(split))
        except ValidationError as exc:
            detail = "; ".join(
                (".".join(str(p) for p in e["loc"]) + ": " if e["loc"] else "") + e["msg"] for e in exc.errors()
            )
            raise ProjectRuleError(f"invalid validation_split: {detail}.", "validation_split") from None
