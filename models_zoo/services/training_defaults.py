"""A project's training defaults (issue 12): their check (`check_training_defaults`, called by the
project service through config.hooks) and a run's config completed with them: the validation
split and the threshold objective and targets the project sets, unless the request gives them."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from annotator.models import Project
from annotator.services.projects import ProjectRuleError
from models_zoo.backends.base import Backend
from models_zoo.splits import parse_split
from models_zoo.thresholds import OBJECTIVES, check_targets


def with_project_defaults(project: Project, cls: type[Backend], config: dict[str, Any] | None) -> Any:
    """The run's config with the project's training defaults (issue 12) filled in where the
    request leaves them out: validation split, threshold objective and targets. A key the
    request gives wins; a backend without the field (span_tagger has no thresholds) gets none."""
    if not isinstance(config, dict):
        return config  # validate_config answers 400
    fields = cls.Config.model_fields
    out = dict(config)
    defaults = {
        "validation_split": project.validation_split or None,
        "threshold_objective": project.threshold_objective or None,
        "threshold_targets": project.threshold_targets or None,
    }
    for key, value in defaults.items():
        if value is not None and key in fields and key not in out:
            out[key] = value
    return out


def check_targets_name_labels(project: Project, config: dict[str, Any]) -> list[str]:
    """Problems with the config's threshold targets (label names must be the project's)."""
    labels = list(project.labels.values_list("name", flat=True))
    return check_targets(config.get("threshold_targets") or {}, labels)


def check_training_defaults(fields: Mapping[str, Any], labels: Sequence[str] | None = None) -> None:
    """Threshold objective, targets and validation split (issue 12); with `labels`, target
    names must be labels of the project."""
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
