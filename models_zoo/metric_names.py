"""What each version-level validation figure is, in words, for every page that shows one (the
version page, the versions and compare tables, the learning curve, the promotion review, the
run log). Pure functions, no Django.

`models_zoo.metrics.classification_metrics` stores the same keys for every classifier, but with
one label (a binary project) `f1_macro` and `f1_micro` are both the positive class's F1 and
`roc_auc_macro` is that label's ROC-AUC: calling them "macro" misnames them beside the
threshold curve's "macro-F1 over both classes" (models_zoo.thresholds), a different figure.
"""
from __future__ import annotations

from collections.abc import Sequence

from models_zoo.thresholds import objective_value

# The version-level keys a table shows, in order; `headline_metrics` drops the ones that would
# repeat another figure.
TABLE_KEYS = ("f1_macro", "f1_micro", "roc_auc_macro")


def is_one_label(task_type: str, labels: Sequence[str]) -> bool:
    """One label scored as positive or not (a binary project, or any classifier with a single
    label): the "macro" averages are then that label's own figures."""
    return task_type != "spans" and len(labels) == 1


def metric_title(key: str, task_type: str, labels: Sequence[str]) -> str:
    """The name of `metrics[key]` for a version of a `task_type` project with `labels`."""
    if is_one_label(task_type, labels):
        label = labels[0]
        one = {
            "f1_macro": f"F1 of {label} (positive class)",
            "f1_micro": f"F1 of {label} (positive class)",
            "roc_auc_macro": f"ROC-AUC of {label}",
            "precision_micro": f"precision of {label}",
            "recall_micro": f"recall of {label}",
        }
        return one.get(key, key)
    unit = {"spans": "entity types", "singlelabel": "classes"}.get(task_type, "labels")
    pooled = {"spans": "entities", "singlelabel": "classes"}.get(task_type, "labels")
    names = {
        "f1_macro": f"F1 macro (mean over {unit})",
        "f1_micro": f"F1 micro (pooled over {pooled})",
        "roc_auc_macro": f"ROC-AUC macro (mean over {unit})",
        "precision_micro": f"precision micro (pooled over {pooled})",
        "recall_micro": f"recall micro (pooled over {pooled})",
    }
    return names.get(key, key)


def headline_metrics(task_type: str, labels: Sequence[str]) -> list[tuple[str, str]]:
    """(metrics key, name) of the version-level columns of the versions and compare tables;
    with one label the micro F1 and the per-label F1 repeat the positive-class F1, so only it
    and the ROC-AUC are shown."""
    keys = ("f1_macro", "roc_auc_macro") if is_one_label(task_type, labels) else TABLE_KEYS
    return [(key, metric_title(key, task_type, labels)) for key in keys]


def shows_per_label_f1(task_type: str, labels: Sequence[str]) -> bool:
    """Whether the per-label F1 columns add anything to the headline ones."""
    return not is_one_label(task_type, labels)


def metric_columns(task_type: str, labels: Sequence[str]) -> dict[str, object]:
    """Template context of a versions/compare table: `metric_columns` [(key, name)], whether
    the per-label F1 columns show, and the promotion metric's name."""
    return {
        "metric_columns": headline_metrics(task_type, labels),
        "per_label_f1": shows_per_label_f1(task_type, labels),
        "promotion_metric_title": metric_title("f1_macro", task_type, labels),
    }


def binary_cells(confusion: dict | None, n: int | None) -> dict[str, int] | None:
    """tp / fn / fp / tn of a one-label version from its stored co-occurrence table
    (`models_zoo.curve_points.cooccurrence`): tn is stored as `neither` since issue 19, and
    derived from the validation size for versions trained before."""
    if not confusion or confusion.get("kind") != "cooccurrence" or len(confusion.get("labels") or []) != 1:
        return None
    tp = int(confusion["matrix"][0][0])
    fn = int((confusion.get("no_pred") or [0])[0])
    fp = int((confusion.get("no_gold") or [0])[0])
    tn = confusion.get("neither")
    if tn is None:
        if n is None:
            return None
        tn = int(n) - tp - fn - fp
    return {"tp": tp, "fn": fn, "fp": fp, "tn": int(tn)}


def macro_f1_both_classes(cells: dict[str, int] | None) -> float | None:
    """Mean of the positive- and negative-class F1 at the calibrated threshold: the
    `f1_macro` threshold objective's own formula (models_zoo.thresholds.objective_value)."""
    if cells is None:
        return None
    return objective_value("f1_macro", cells["tp"], cells["fp"], cells["fn"], cells["tn"])
