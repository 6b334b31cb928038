"""Figures of a simulation's learning curves (pure): F1 per label, AULC, labels to a share of
the full-data F1 or to a target F1, each as a mean curve and as a spread over seeds.

- AULC: the trapezoid area under a curve divided by its range of labels, i.e. the mean F1
  over the labelling budget.
- labels to 95%: the first label count whose F1 reaches 95% of the F1 of training on every
  pool example; labels to target: the first whose F1 reaches the admin's `target_f1`.
  Both are None when never reached, and None when the full-data F1 is 0: with nothing to
  reach, "reached at the first count" (the bug of issue 18) says nothing.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def f1_per_label(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """F1 of each label column (single-label: one column per class; binary: the positive
    class). A column with no positive, either way, scores 1 (nothing to find, nothing found)."""
    t, p = np.asarray(y_true, dtype=bool), np.asarray(y_pred, dtype=bool)
    tp = (t & p).sum(axis=0).astype(float)
    denominator = t.sum(axis=0) + p.sum(axis=0)
    return np.where(denominator == 0, 1.0, 2 * tp / np.maximum(denominator, 1))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean over label columns of F1 (see `f1_per_label`)."""
    return float(np.mean(f1_per_label(y_true, y_pred)))


def aulc(points: Sequence[dict[str, float]], key: str = "f1_mean") -> float:
    xs = np.array([p["labels"] for p in points], dtype=float)
    ys = np.array([p[key] for p in points], dtype=float)
    return area(xs, ys)


def area(xs: np.ndarray, ys: np.ndarray) -> float:
    """Trapezoid area under (xs, ys) over the range of xs (the mean of ys over the budget)."""
    if len(xs) < 2 or xs[-1] == xs[0]:
        return float(ys[0]) if len(ys) else 0.0
    return float(np.sum((ys[1:] + ys[:-1]) / 2 * np.diff(xs)) / (xs[-1] - xs[0]))


def labels_to(counts: Sequence[int], curve: Sequence[float], goal: float | None,
              full: float) -> int | None:
    """The first count whose F1 reaches `goal`; None when never, when there is no goal, or
    when the full-data F1 is 0."""
    if goal is None or full <= 0:
        return None
    for count, value in zip(counts, curve):
        if value >= goal - 1e-12:
            return int(count)
    return None


def spread(values: Sequence[float | None]) -> dict[str, Any]:
    """{mean, sd, reached, seeds} of per-seed figures; None values (not reached) are left out
    of the mean and counted as not reached."""
    kept = [float(v) for v in values if v is not None]
    return {"mean": round(float(np.mean(kept)), 4) if kept else None,
            "sd": round(float(np.std(kept)), 4) if kept else None,
            "reached": len(kept), "seeds": len(values)}


def summarise(counts: Sequence[int], curves: np.ndarray, full: np.ndarray,
              target_f1: float | None) -> dict[str, Any]:
    """Figures of one (start, strategy, label): `curves` (seeds, rounds) of F1, `full` (seeds,)
    full-data F1. Mean-curve figures plus their spread over seeds."""
    curves = np.asarray(curves, dtype=float)
    full = np.asarray(full, dtype=float)
    xs = np.asarray(counts, dtype=float)
    mean_curve = curves.mean(axis=0)
    full_mean = float(full.mean())
    per_seed_95 = [labels_to(counts, c, 0.95 * f, f) for c, f in zip(curves, full)]
    per_seed_target = [labels_to(counts, c, target_f1, f) for c, f in zip(curves, full)]
    return {
        "curve": [{"labels": int(n), "f1_mean": round(float(m), 4), "f1_sd": round(float(s), 4)}
                  for n, m, s in zip(counts, mean_curve, curves.std(axis=0))],
        "f1": spread(curves[:, -1].tolist()),
        "aulc": spread([area(xs, c) for c in curves]),
        "labels_to_95": spread(per_seed_95),
        "labels_to_target": spread(per_seed_target),
        "mean_curve": {
            "aulc": round(area(xs, mean_curve), 4),
            "labels_to_95": labels_to(counts, mean_curve, 0.95 * full_mean, full_mean),
            "labels_to_target": labels_to(counts, mean_curve, target_f1, full_mean),
        },
    }
