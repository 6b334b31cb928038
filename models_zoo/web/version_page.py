"""The version page's context and the training-defaults form (threshold objective, targets,
validation split) of the versions page: parsing only, the project service validates."""
from __future__ import annotations

import json
from typing import Any

from annotator.models import Project
from annotator.services.projects import ProjectRuleError
from config.inputs import InvalidInput, loads_json
from models_zoo.metric_names import (
    binary_cells,
    headline_metrics,
    is_one_label,
    macro_f1_both_classes,
)
from models_zoo.models import ModelVersion
from models_zoo.services.training_defaults import check_training_defaults
from models_zoo.splits import describe_split, split_record_of
from models_zoo.thresholds import FEW_POSITIVES
from models_zoo.web.curves import curve_figure
from models_zoo.web.version_plots import version_plots


def version_context(version: ModelVersion, project: Project, is_admin: bool) -> dict[str, Any]:
    metrics = version.metrics or {}
    calibration = metrics.get("threshold_calibration") or {}
    objective = calibration.get("objective") or (version.config or {}).get("threshold_objective") or "f1_positive"
    per_class = metrics.get("per_class") or {}
    picks = calibration.get("per_label") or {}
    rows = []
    for label in version.labels or []:
        pick = picks.get(label) or {}
        rows.append({
            "label": label, "threshold": (version.thresholds or {}).get(label),
            "metrics": per_class.get(label) or {}, "target": pick.get("target"),
            "target_met": pick.get("target_met"), "note": pick.get("note", ""),
        })
    split = split_record_of(version.data_snapshot)
    counts = (version.data_snapshot or {}).get("counts") or {}
    method = calibration.get("method") or "validation"
    return {
        "headline": headline_figures(version, project.task_type),
        "calibration_text": calibration_text(calibration),
        "few_positives": few_positives(version.labels or [], picks, per_class, method),
        "version": version, "project": project, "is_admin": is_admin,
        "objective": objective, "split": split, "split_text": describe_split(split), "counts": counts,
        "rows": rows, "metrics": metrics,
        "figures": [curve_figure(label, picks[label], objective) for label in version.labels or [] if label in picks],
        "plots": version_plots(version),
        "is_attention": version.backend == "attention_bilstm",
    }


def calibration_text(calibration: dict[str, Any]) -> str:
    """Where the thresholds were picked, in words (the calibration report's method)."""
    method = calibration.get("method") or "validation"
    folds = calibration.get("folds")
    if method == "cross_validation":
        return f"{folds}-fold cross-validation on the training examples"
    if method == "group_cross_validation":
        groups = calibration.get("groups") or 0
        field = calibration.get("group_field") or "event"
        if not groups:
            return (f"{folds}-fold cross-validation on the training examples "
                    f"({calibration.get('note') or 'group cross-validation fell back to stratified folds'})")
        how = f"leave-one-{field}-out" if groups == folds else f"{field}-grouped"
        return (f"{how} cross-validation over {groups} {field} groups ({folds} folds) on the "
                "training examples")
    return "the validation split"


def headline_figures(version: ModelVersion, task_type: str) -> list[dict[str, Any]]:
    """The version-level validation figures, each under the name of what it is
    (models_zoo.metric_names). One label: its F1 and ROC-AUC, and the macro-F1 over both
    classes (positive and negative) at the calibrated threshold, from the confusion counts,
    the same formula as the `f1_macro` threshold objective; several labels: F1 macro and micro
    and the ROC-AUC macro."""
    metrics = version.metrics or {}
    labels = list(version.labels or [])
    figures = [{"key": key, "title": title, "value": metrics.get(key)}
               for key, title in headline_metrics(task_type, labels)]
    if is_one_label(task_type, labels):
        plots = metrics.get("plots") or {}
        both = macro_f1_both_classes(binary_cells(plots.get("confusion"), plots.get("n")))
        if both is not None:
            figures.insert(1, {"key": "f1_both_classes", "title": "macro-F1 over both classes", "value": both})
    return figures


def few_positives(labels: list[str], picks: dict[str, Any], per_class: dict[str, Any],
                  method: str) -> list[dict[str, Any]]:
    """Labels whose threshold or validation metrics rest on fewer than FEW_POSITIVES positives
    (issue 18): {label, threshold_positives, metric_positives}; a count is None when unknown
    (versions from before it was recorded)."""
    out = []
    for label in labels:
        support = (per_class.get(label) or {}).get("support")
        picked = (picks.get(label) or {}).get("positives")
        if picked is None and method == "validation":
            picked = support
        if any(n is not None and n < FEW_POSITIVES for n in (picked, support)):
            out.append({"label": label, "threshold_positives": picked, "metric_positives": support})
    return out


def training_defaults_form_values(project: Project) -> dict[str, str]:
    """The form's pre-filled text: JSON boxes for the targets and the split."""
    return {
        "threshold_objective": project.threshold_objective,
        "threshold_targets": json.dumps(project.threshold_targets) if project.threshold_targets else "",
        "validation_split": json.dumps(project.validation_split) if project.validation_split else "",
    }


def training_defaults_from_form(project: Project, data: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """(changes, errors by field) from the submitted form; empty boxes reset to the default."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if "threshold_objective" not in data:
        return changes, errors
    changes["threshold_objective"] = data.get("threshold_objective", "").strip()
    for name in ("threshold_targets", "validation_split"):
        raw = data.get(name, "").strip()
        if not raw:
            changes[name] = {}
            continue
        try:
            changes[name] = loads_json(raw, name)
        except InvalidInput as exc:
            errors[name] = f"{name} must be a JSON object: {exc.message}"
    if not errors:
        try:
            check_training_defaults(changes, list(project.labels.values_list("name", flat=True)))
        except ProjectRuleError as exc:
            errors[exc.field] = exc.message
    return changes, errors
