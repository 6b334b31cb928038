"""The plots of a version page and of the compare page, from what training stored in
`version.metrics` (`plots` from `models_zoo.curve_points.validation_plots`, `history` per epoch)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models_zoo.curve_points import loss_series
from models_zoo.metric_names import binary_cells
from models_zoo.models import ModelVersion
from models_zoo.web.curves import curve_figure
from models_zoo.web.plot_svg import legend, line_plot, shade_class


def _operating_points(version: ModelVersion) -> list[dict[str, Any]]:
    per_class = (version.metrics or {}).get("per_class") or {}
    thresholds = version.thresholds or {}
    out = []
    for label in version.labels or []:
        m = per_class.get(label) or {}
        if "recall" in m and "precision" in m and label in thresholds:
            out.append({"x": float(m["recall"]), "y": float(m["precision"]),
                        "text": f"{label} at threshold {thresholds[label]}: precision {m['precision']:.3f}, "
                                f"recall {m['recall']:.3f}"})
    return out


def pr_roc_plots(versions: Sequence[ModelVersion], labels: Sequence[str], *, name_by_version: bool = False,
                 id_prefix: str = "") -> dict[str, Any]:
    """PR and ROC plots overlaying each (version, label) curve; legends; None parts when no
    version stored curves."""
    pr: dict[str, list] = {}
    roc: dict[str, list] = {}
    markers: list[dict[str, Any]] = []
    for v in versions:
        curves = ((v.metrics or {}).get("plots") or {}).get("curves") or {}
        for label in labels:
            c = curves.get(label) or {}
            name = f"#{v.pk} {label}" if name_by_version else label
            if c.get("pr"):
                pr[f"{name} (AP {c['pr']['ap']:.3f})"] = c["pr"]["points"]
            if c.get("roc"):
                roc[f"{name} (AUC {c['roc']['auc']:.3f})"] = c["roc"]["points"]
        if not name_by_version:
            markers += _operating_points(v)
    return {
        "pr_svg": line_plot(pr, x_label="recall", y_label="precision", title="Precision-recall on validation",
                            css_id=f"{id_prefix}pr-plot", markers=markers) if pr else None,
        "pr_legend": legend(list(pr)),
        "roc_svg": line_plot(roc, x_label="false-positive rate", y_label="true-positive rate",
                             title="ROC on validation", css_id=f"{id_prefix}roc-plot", diagonal=True) if roc else None,
        "roc_legend": legend(list(roc)),
    }


def f1_figures(version: ModelVersion) -> list[dict[str, Any]]:
    """F1 of the positive class against the threshold per label, the calibrated threshold
    marked (drawn by `_threshold_curve.html`); the calibration curves already show F1 when the
    objective is f1_positive, so this is for the other objectives."""
    curves = ((version.metrics or {}).get("plots") or {}).get("curves") or {}
    out = []
    for label in version.labels or []:
        curve = (curves.get(label) or {}).get("f1_curve")
        if not curve:
            continue
        threshold = float((version.thresholds or {}).get(label, 0.5))
        near = min(curve, key=lambda tv: abs(tv[0] - threshold))
        fig = curve_figure(label, {"curve": curve, "threshold": threshold, "value": near[1]}, "f1_positive")
        fig["label"] = f"{label} F1"
        out.append(fig)
    return out


def confusion_context(version: ModelVersion) -> dict[str, Any] | None:
    """Rows of the confusion table: gold label -> counts per predicted label, with shading.
    Co-occurrence tables end with the items that have neither a gold nor a predicted label
    (one label: the true negatives), stored since issue 19 and derived from the validation
    size for older one-label versions."""
    plots = (version.metrics or {}).get("plots") or {}
    confusion = plots.get("confusion")
    if not confusion:
        return None
    labels = confusion["labels"]
    matrix = confusion["matrix"]
    peak = max([c for row in matrix for c in row] + [0])
    rows = []
    for i, label in enumerate(labels):
        cells = [{"count": c, "diag": i == j, "shade": shade_class(c, peak)} for j, c in enumerate(matrix[i])]
        extra = confusion.get("no_pred", [None] * len(labels))[i] if confusion["kind"] == "cooccurrence" else None
        rows.append({"label": label, "cells": cells, "no_pred": extra})
    cells = binary_cells(confusion, plots.get("n"))
    neither = cells["tn"] if cells else confusion.get("neither")
    return {"kind": confusion["kind"], "labels": labels, "rows": rows,
            "no_gold": confusion.get("no_gold") if confusion["kind"] == "cooccurrence" else None,
            "neither": neither, "one_label": cells is not None}


def loss_plot(versions: Sequence[ModelVersion], *, id_prefix: str = "") -> dict[str, Any]:
    """The per-epoch training (and validation) loss of each version's run."""
    series: dict[str, list] = {}
    for v in versions:
        for name, pts in loss_series((v.metrics or {}).get("history")).items():
            series[f"#{v.pk} {name}" if len(versions) > 1 else name] = pts
    if not series:
        return {"svg": None, "legend": []}
    epochs = [x for pts in series.values() for x, _ in pts]
    return {"svg": line_plot(series, x_label="epoch", y_label="loss", title="Loss per epoch",
                             css_id=f"{id_prefix}loss-plot", x_range=(min(epochs), max(max(epochs), min(epochs) + 1)),
                             y_range=None),
            "legend": legend(list(series))}


def version_plots(version: ModelVersion) -> dict[str, Any]:
    labels = list(version.labels or [])
    return {**pr_roc_plots([version], labels), "f1_figures": f1_figures(version),
            "confusion": confusion_context(version), "loss": loss_plot([version]),
            "is_spans": "plots" not in (version.metrics or {}) and version.backend == "span_tagger"}
