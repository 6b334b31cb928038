"""Validation plots as numbers (no Django, no torch): precision-recall and ROC points per label,
the confusion between labels, and the per-epoch loss from a run's history.

Computed once at training time from the validation scores (`validation_plots`) and stored in the
version's metrics JSON (`metrics["plots"]`), so the version page never needs the model or the
raw validation scores. Curves are thinned to at most MAX_POINTS points.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from models_zoo.thresholds import objective_curve

MAX_POINTS = 101


def _thin(points: list[tuple[float, float]], limit: int = MAX_POINTS) -> list[list[float]]:
    """Keep the first and last point and evenly spaced ones between (at most `limit`)."""
    if len(points) > limit:
        idx = np.unique(np.linspace(0, len(points) - 1, limit).round().astype(int))
        points = [points[i] for i in idx]
    return [[round(float(x), 4), round(float(y), 4)] for x, y in points]


def _sorted_counts(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds descending, true positives, false positives) at each distinct score: the
    items scoring >= threshold are predicted positive."""
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], y_true[order].astype(np.int64)
    # the last index of each run of equal scores
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tp = np.cumsum(y)[last]
    fp = np.cumsum(1 - y)[last]
    return s[last], tp, fp


def roc_points(y_true: Sequence[int], scores: Sequence[float]) -> dict[str, Any] | None:
    """ROC curve [(false-positive rate, true-positive rate)] from (0, 0) to (1, 1) and its area
    (trapezoids); None when the label has no positive or no negative."""
    y, s = np.asarray(y_true), np.asarray(scores, dtype=np.float64)
    pos = int(y.sum())
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return None
    _, tp, fp = _sorted_counts(y, s)
    fpr = np.r_[0.0, fp / neg]
    tpr = np.r_[0.0, tp / pos]
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    return {"points": _thin(list(zip(fpr, tpr, strict=True))), "auc": round(auc, 4)}


def pr_points(y_true: Sequence[int], scores: Sequence[float]) -> dict[str, Any] | None:
    """Precision-recall curve [(recall, precision)] at each distinct score, descending, starting
    at recall 0 with the first point's precision, and the average precision
    (sum of (R_k - R_{k-1}) * P_k, as scikit-learn); None without a positive."""
    y, s = np.asarray(y_true), np.asarray(scores, dtype=np.float64)
    pos = int(y.sum())
    if pos == 0:
        return None
    _, tp, fp = _sorted_counts(y, s)
    precision = tp / (tp + fp)
    recall = tp / pos
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    points = [(0.0, float(precision[0]))] + list(zip(recall, precision, strict=True))
    return {"points": _thin(points), "ap": round(ap, 4), "prevalence": round(pos / len(y), 4)}


def confusion_matrix(gold: Sequence[int], predicted: Sequence[int], n_labels: int) -> list[list[int]]:
    """Single-label: matrix[g][p] = how many items of gold class g were predicted p."""
    matrix = np.zeros((n_labels, n_labels), dtype=np.int64)
    for g, p in zip(gold, predicted, strict=True):
        matrix[int(g), int(p)] += 1
    return matrix.tolist()


def cooccurrence(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, list]:
    """Multi-label: matrix[i][j] = items with gold label i that were predicted label j (the
    diagonal holds the true positives); `no_pred[i]` items with gold i and no predicted label,
    `no_gold[j]` items predicted j with no gold label, `neither` items with no gold and no
    predicted label (for one label: the true negatives)."""
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    none_pred = p.sum(axis=1) == 0
    none_gold = t.sum(axis=1) == 0
    return {
        "matrix": (t.T @ p).tolist(),
        "no_pred": t[none_pred].sum(axis=0).tolist(),
        "no_gold": p[none_gold].sum(axis=0).tolist(),
        "neither": int(np.sum(none_pred & none_gold)),
    }


def validation_plots(y_true: np.ndarray, scores: np.ndarray, y_pred: np.ndarray,
                     labels: Sequence[str], task_type: str) -> dict[str, Any]:
    """Everything the version page plots, for `metrics["plots"]`: per-label PR and ROC curves
    and the confusion (a matrix for single-label, gold-vs-predicted co-occurrence otherwise)."""
    curves = {}
    for j, name in enumerate(labels):
        curves[name] = {"pr": pr_points(y_true[:, j], scores[:, j]),
                        "roc": roc_points(y_true[:, j], scores[:, j]),
                        "positives": int(np.asarray(y_true[:, j]).sum()),
                        # positive-class F1 at each grid threshold, whatever the objective
                        "f1_curve": [[t, v] for t, v in objective_curve(y_true[:, j], scores[:, j], "f1_positive")]}
    if task_type == "singlelabel":
        confusion = {"kind": "matrix",
                     "matrix": confusion_matrix(y_true.argmax(axis=1), y_pred.argmax(axis=1), len(labels))}
    else:
        confusion = {"kind": "cooccurrence", **cooccurrence(y_true, y_pred)}
    return {"curves": curves, "confusion": {"labels": list(labels), **confusion}, "n": int(len(y_true))}


def loss_series(history: Sequence[dict[str, Any]] | None) -> dict[str, list[tuple[float, float]]]:
    """{series name: [(epoch, loss)]} from a run's per-epoch history: the training loss and,
    where recorded, the validation loss; epochs without a value are skipped."""
    out: dict[str, list[tuple[float, float]]] = {}
    for key, name in (("train_loss", "training loss"), ("val_loss", "validation loss")):
        pts = [(float(h["epoch"]), float(h[key])) for h in history or []
               if isinstance(h, dict) and isinstance(h.get(key), (int, float)) and h.get("epoch") is not None]
        if pts:
            out[name] = pts
    return out
