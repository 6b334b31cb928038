"""Task-type rules shared by the classifier backends (no torch, no Django).

- multilabel / multimodal-multilabel: independent labels, sigmoid scores, per-class thresholds.
- binary: the project has ONE label; gold `[label]` is positive, `[]` negative; sigmoid.
- singlelabel: exactly one gold label per item, softmax scores; the predicted label is the
  argmax (thresholds are still calibrated and reported, seed 002, but do not gate the label).

Thresholds are calibrated per class on the validation split (seed 002,
../shared/seeds/002_58145e44d9d40203.txt) under the admin's objective (`models_zoo.thresholds`).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from models_zoo.backends.base import BackendError, Item, ItemPrediction
from models_zoo.curve_points import validation_plots
from models_zoo.metrics import apply_thresholds, classification_metrics
from models_zoo.thresholds import calibrate

SIGMOID_TASKS = ("multilabel", "multimodal-multilabel", "binary")


def check_labels_for_task(labels: Sequence[str], task_type: str) -> None:
    """Binary projects have exactly one label; single-label needs at least two."""
    if task_type == "binary" and len(labels) != 1:
        raise BackendError(f"a binary project has exactly one label, got {len(labels)}: {list(labels)}")
    if task_type == "singlelabel" and len(labels) < 2:
        raise BackendError(f"a single-label project needs at least two labels, got {list(labels)}")
    if len(set(labels)) != len(labels):
        raise BackendError(f"labels must be unique, got {list(labels)}")


def gold_matrix(items: Sequence[Item], labels: Sequence[str], task_type: str, split: str) -> np.ndarray:
    """(n_items, n_labels) 0/1 matrix of gold labels; errors name the split and item index."""
    known = set(labels)
    rows: list[list[str]] = []
    for i, item in enumerate(items):
        if item.labels is None:
            raise BackendError(f"{split} item {i}: gold labels are missing")
        unknown = [name for name in item.labels if name not in known]
        if unknown:
            raise BackendError(
                f"{split} item {i}: unknown label(s) {unknown}; project labels are {list(labels)}"
            )
        if task_type == "singlelabel" and len(set(item.labels)) != 1:
            raise BackendError(
                f"{split} item {i}: a single-label item needs exactly one gold label, got {item.labels}"
            )
        rows.append(list(item.labels))
    y = np.zeros((len(rows), len(labels)), dtype=np.int8)
    index = {name: j for j, name in enumerate(labels)}
    for r, names in enumerate(rows):
        for name in names:
            y[r, index[name]] = 1
    return y


def check_splits(train: Sequence[Item], validation: Sequence[Item]) -> None:
    if len(train) == 0:
        raise BackendError("the training split is empty")
    if len(validation) == 0:
        raise BackendError("the validation split is empty: thresholds are calibrated on it")


def decide(scores: np.ndarray, labels: Sequence[str], task_type: str,
           thresholds: dict[str, float]) -> np.ndarray:
    """0/1 predictions: argmax for single-label, per-class thresholds otherwise."""
    if task_type == "singlelabel":
        out = np.zeros_like(scores, dtype=np.int8)
        if len(scores):
            out[np.arange(len(scores)), scores.argmax(axis=1)] = 1
        return out
    return apply_thresholds(scores, labels, thresholds)


def calibrate_and_measure(y_true: np.ndarray, scores: np.ndarray, labels: Sequence[str],
                          task_type: str, objective: str = "f1_positive",
                          targets: dict[str, float] | None = None,
                          calibration: tuple[np.ndarray, np.ndarray] | None = None,
                          folds: int | None = None,
                          method: dict[str, Any] | None = None) -> tuple[dict[str, float], dict[str, Any]]:
    """Per-class thresholds under the threshold `objective` (issue 12), then the shared metrics
    with those thresholds on validation (`y_true`, `scores`); `metrics["threshold_calibration"]`
    keeps the objective, where the thresholds were picked, each label's pick, the positives it
    rested on and its curve (the version page draws it). `calibration`: (y, out-of-fold scores)
    of the training examples when thresholds are calibrated by `folds`-fold cross-validation
    (issue 18); None: on the validation split. `method`: how those folds were dealt
    (`{"method": "group_cross_validation", "groups", "group_field", "note"}`; None: stratified
    cross-validation)."""
    if calibration is None:
        thresholds, report = calibrate(y_true, scores, labels, objective, targets)
    else:
        how = dict(method or {"method": "cross_validation"})
        thresholds, report = calibrate(calibration[0], calibration[1], labels, objective, targets,
                                       folds=folds, **how)
    y_pred = decide(scores, labels, task_type, thresholds)
    metrics = measure(y_true, scores, y_pred, labels)
    metrics["threshold_calibration"] = report
    # Issue 13: PR/ROC curves and the confusion between labels, for the version page.

    metrics["plots"] = validation_plots(y_true, scores, y_pred, labels, task_type)
    return thresholds, metrics


def calibrate_for(config: Any, y_true: np.ndarray, scores: np.ndarray, labels: Sequence[str],
                  task_type: str, calibration: tuple[np.ndarray, np.ndarray] | None = None,
                  folds: int | None = None,
                  method: dict[str, Any] | None = None) -> tuple[dict[str, float], dict[str, Any]]:
    """`calibrate_and_measure` with the objective and targets of a ClassifierConfig."""
    return calibrate_and_measure(y_true, scores, labels, task_type,
                                 getattr(config, "threshold_objective", "f1_positive"),
                                 getattr(config, "threshold_targets", None),
                                 calibration=calibration, folds=folds, method=method)


def measure(y_true: np.ndarray, scores: np.ndarray, y_pred: np.ndarray,
            labels: Sequence[str]) -> dict[str, Any]:
    """`classification_metrics`, with the one-label (binary project) case scored on the
    positive class: scikit-learn reads an (n, 1) indicator matrix as a 1-D binary target, so
    its per-class row 0 and its macro average would describe the negative class too."""
    metrics = classification_metrics(y_true, scores, y_pred, labels)
    if y_true.shape[1] == 1:
        from sklearn.metrics import precision_recall_fscore_support

        p, r, f, s = precision_recall_fscore_support(y_true[:, 0], y_pred[:, 0], labels=[1],
                                                     average=None, zero_division=0)
        metrics["per_class"] = {labels[0]: {"precision": float(p[0]), "recall": float(r[0]),
                                            "f1": float(f[0]), "support": int(s[0])}}
        metrics["f1_macro"] = metrics["f1_micro"] = float(f[0])
    return metrics


def selection_score(y_true: np.ndarray, scores: np.ndarray, labels: Sequence[str]) -> float | None:
    """Validation ROC-AUC macro used to pick the best epoch (seed 000); None if undefined."""
    from sklearn.metrics import roc_auc_score

    aucs = []
    for j in range(len(labels)):
        column = y_true[:, j]
        if 0 < column.sum() < len(column):
            aucs.append(float(roc_auc_score(column, scores[:, j])))
    return float(np.mean(aucs)) if aucs else None


def validation_log_loss(y_true: np.ndarray, scores: np.ndarray, task_type: str) -> float:
    """Mean log-loss of probability `scores`: cross-entropy of the gold class for single-label,
    binary cross-entropy per label otherwise."""
    eps = 1e-7
    if task_type == "singlelabel":
        picked = scores[np.arange(len(scores)), y_true.argmax(axis=1)]
        return float(-np.mean(np.log(picked + eps)))
    return float(-np.mean(y_true * np.log(scores + eps) + (1 - y_true) * np.log(1 - scores + eps)))


def epoch_criterion(y_true: np.ndarray, scores: np.ndarray, labels: Sequence[str], task_type: str,
                    by: str = "roc_auc") -> tuple[float, float]:
    """What the best epoch maximises: validation ROC-AUC macro (seed 000), ties (e.g. a
    saturated 1.0) broken by lower validation log-loss; `by="val_loss"` uses the loss alone
    (seed 004 keeps the epoch with the lowest validation loss)."""
    loss = validation_log_loss(y_true, scores, task_type)
    auc = selection_score(y_true, scores, labels) if by == "roc_auc" else None
    return (float("-inf") if auc is None else auc, -loss)


def to_predictions(scores: np.ndarray, labels: Sequence[str], task_type: str,
                   thresholds: dict[str, float]) -> list[ItemPrediction]:
    """ItemPredictions carrying scores (label -> probability), decided labels and thresholds."""
    decided = decide(scores, labels, task_type, thresholds)
    used = {name: float(thresholds.get(name, 0.5)) for name in labels}
    out = []
    for row, flags in zip(scores, decided, strict=True):
        out.append(
            ItemPrediction(
                scores={name: float(row[j]) for j, name in enumerate(labels)},
                labels=[name for j, name in enumerate(labels) if flags[j]],
                thresholds=dict(used),
            )
        )
    return out


def sigmoid(z: np.ndarray) -> np.ndarray:
    # Split by sign so large |z| neither overflows nor loses precision.
    out = np.empty_like(z, dtype=np.float64)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)
