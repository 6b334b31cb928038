"""Shared metrics and per-class threshold calibration (no Django, no torch).

Thresholds: seed 002 (CLIP fusion card) calibrates one threshold per class on the validation
split instead of a global 0.5; the objective it optimises lives in `models_zoo.thresholds`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from models_zoo.thresholds import (
    THRESHOLD_GRID,  # noqa: F401  (re-exported)
    calibrate,
)


def labels_to_matrix(gold: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    """Binary indicator matrix (n_items, n_labels) from lists of label names."""
    index = {name: i for i, name in enumerate(labels)}
    y = np.zeros((len(gold), len(labels)), dtype=np.int8)
    for row, names in enumerate(gold):
        for name in names:
            if name in index:
                y[row, index[name]] = 1
    return y


def calibrate_thresholds(
    y_true: np.ndarray, scores: np.ndarray, labels: Sequence[str], default: float = 0.5
) -> dict[str, float]:
    """Per-class threshold maximising positive-class F1 on validation (seed 002); 0.5 when a
    class has no positive in the validation split. The other objectives: `models_zoo.thresholds`."""
    thresholds, _ = calibrate(y_true, scores, labels, "f1_positive")
    return thresholds


def apply_thresholds(
    scores: np.ndarray, labels: Sequence[str], thresholds: dict[str, float]
) -> np.ndarray:
    cut = np.array([thresholds.get(name, 0.5) for name in labels], dtype=np.float64)
    return (scores >= cut).astype(np.int8)


def classification_metrics(
    y_true: np.ndarray, scores: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]
) -> dict[str, Any]:
    """ROC-AUC macro, F1 macro and micro, per-class precision/recall/F1 and support."""
    from sklearn.metrics import f1_score, precision_recall_fscore_support, roc_auc_score

    aucs = []
    for j in range(len(labels)):
        column = y_true[:, j]
        if 0 < column.sum() < len(column):
            aucs.append(float(roc_auc_score(column, scores[:, j])))
    if y_true.shape[1] == 1:
        # One label (a binary project): sklearn would read a single column as a two-class
        # target and report the negative class; score the positive class only.
        precision, recall, f1, support = precision_recall_fscore_support(
            y_true[:, 0], y_pred[:, 0], labels=[1], average=None, zero_division=0
        )
        f1_macro = f1_micro = float(f1[0])
    else:
        precision, recall, f1, support = precision_recall_fscore_support(
            y_true, y_pred, average=None, zero_division=0
        )
        f1_macro = float(f1_score(y_true, y_pred, average="macro", zero_division=0))
        f1_micro = float(f1_score(y_true, y_pred, average="micro", zero_division=0))
    return {
        "roc_auc_macro": float(np.mean(aucs)) if aucs else None,
        "f1_macro": f1_macro,
        "f1_micro": f1_micro,
        "per_class": {
            name: {
                "precision": float(precision[j]),
                "recall": float(recall[j]),
                "f1": float(f1[j]),
                "support": int(support[j]),
            }
            for j, name in enumerate(labels)
        },
        "n": int(y_true.shape[0]),
    }
