"""Threshold objectives: pure functions over (y_true, scores) that pick one decision threshold
per label on the validation split (no Django, no torch).

Seed 002 (../shared/seeds/002_58145e44d9d40203.txt) calibrates one threshold per class on the
validation split instead of a global 0.5; what the threshold optimises is the admin's (issue 12):

- `f1_positive`: F1 of the positive class (what Vigia did before objectives existed);
- `f1_macro`: the mean of the positive-class and negative-class F1 of the label (the metric seeds
  000-001 and SemEval report), which does not reward predicting nearly everything positive;
- `target_recall`: the HIGHEST threshold whose recall reaches the label's target (the most
  precise cut-off that still catches, say, 90% of crisis tweets); when no threshold reaches it,
  the lowest threshold of the grid (the best recall there is) and `target_met` False;
- `target_precision`: the LOWEST threshold whose precision reaches the target (the most recall at
  that precision); when none does, the threshold with the best precision (ties: the lowest) and
  `target_met` False; when no threshold predicts any positive, 0.5;
- `none`: 0.5, no calibration.

Where the scores come from (issue 18, `CALIBRATIONS`): `validation` picks on the validation
split's scores; `cross_validation` picks on out-of-fold scores of the TRAINING examples (k folds,
`models_zoo.splits.stratified_folds`, each scored by a head fitted on the other folds, see
`out_of_fold_scores`), so a rare label's threshold rests on all its training positives instead of
the few a 20% split holds; `group_cross_validation` deals the folds by group instead (the
`calibration_group_field` of each training example, e.g. its event: leave-one-event-out,
`models_zoo.splits.group_folds`), so the threshold is picked on scores of events the head never
saw, as a new event's will be (falls back to stratified folds, with a note, under two groups).
Either way the version's metrics are measured on the validation split.

Thresholds come from the grid 0.01, 0.02, 0.03, 0.04, 0.05, 0.10, ..., 0.95. The low steps are
for rare labels (issue 18): at 1% positives an unweighted head rarely scores a positive above
0.05, and without them its positive-class F1 on the group hold-outs fell from .131 to .104
(bench/defaults_grid.py rare). For the two F1 objectives ties go to the
threshold closest to 0.5 (the uncalibrated default), then to the lower one. A label without a
positive in the validation split gets 0.5 (nothing to calibrate on) with a note saying so.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CALIBRATIONS = ("validation", "cross_validation", "group_cross_validation")
# Below this many positives behind a label's threshold (or its validation metrics) the version
# page says the figures rest on few positives (issue 18).
FEW_POSITIVES = 30
OBJECTIVES = ("f1_positive", "f1_macro", "target_recall", "target_precision", "none")
TARGET_OBJECTIVES = ("target_recall", "target_precision")
DEFAULT_TARGET = 0.9
DEFAULT_THRESHOLD = 0.5
# Hundredths, so ties and distances to 0.5 are compared exactly.
GRID_HUNDREDTHS = (1, 2, 3, 4, *range(5, 96, 5))
THRESHOLD_GRID = np.array([h / 100 for h in GRID_HUNDREDTHS])
OBJECTIVE_TITLES = {
    "f1_positive": "F1 of the positive class",
    "f1_macro": "macro-F1 over both classes",
    "target_recall": "recall (target)",
    "target_precision": "precision (target)",
    "none": "F1 of the positive class (threshold fixed at 0.5)",
}


@dataclass
class ThresholdChoice:
    """The picked threshold, the objective's value there, and the curve it was picked from."""

    threshold: float
    value: float | None
    target: float | None = None
    target_met: bool | None = None
    note: str = ""
    # [(threshold, objective value or None where undefined)], over THRESHOLD_GRID.
    curve: list[tuple[float, float | None]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "value": self.value, "target": self.target,
                "target_met": self.target_met, "note": self.note,
                "curve": [[t, v] for t, v in self.curve]}


def _counts(truth: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[int, int, int, int]:
    pred = scores >= threshold
    tp = int(np.sum(pred & truth))
    fp = int(np.sum(pred & ~truth))
    fn = int(np.sum(~pred & truth))
    tn = int(np.sum(~pred & ~truth))
    return tp, fp, fn, tn


def objective_value(objective: str, tp: int, fp: int, fn: int, tn: int) -> float | None:
    """The objective at one confusion matrix; None where it is undefined (precision with no
    predicted positive)."""
    f1_pos = 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    if objective in ("f1_positive", "none"):
        return f1_pos
    if objective == "f1_macro":
        f1_neg = 0.0 if tn == 0 else 2 * tn / (2 * tn + fn + fp)
        return (f1_pos + f1_neg) / 2
    if objective == "target_recall":
        return tp / (tp + fn) if tp + fn else None
    if objective == "target_precision":
        return tp / (tp + fp) if tp + fp else None
    raise ValueError(f"unknown threshold objective {objective!r}; valid: {', '.join(OBJECTIVES)}")


def objective_curve(y_true: np.ndarray, scores: np.ndarray, objective: str) -> list[tuple[float, float | None]]:
    """The objective at every grid threshold (the version page draws it)."""
    truth = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    return [(h / 100, objective_value(objective, *_counts(truth, s, h / 100))) for h in GRID_HUNDREDTHS]


def pick_threshold(y_true: np.ndarray, scores: np.ndarray, objective: str,
                   target: float | None = None) -> ThresholdChoice:
    """One label's threshold under `objective` (see the module docstring for every rule)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown threshold objective {objective!r}; valid: {', '.join(OBJECTIVES)}")
    if objective in TARGET_OBJECTIVES:
        target = DEFAULT_TARGET if target is None else float(target)
        if not 0 < target <= 1:
            raise ValueError(f"a {objective} target must be in (0, 1], got {target}")
    else:
        target = None
    curve = objective_curve(y_true, scores, objective)
    values = dict(zip(GRID_HUNDREDTHS, (v for _, v in curve), strict=True))

    def choice(h: int | None, note: str = "", met: bool | None = None) -> ThresholdChoice:
        t = DEFAULT_THRESHOLD if h is None else h / 100
        value = values.get(h) if h is not None else values.get(50)
        return ThresholdChoice(t, value, target, met, note, curve)

    if objective == "none":
        return choice(50, "no calibration: 0.5")
    if not np.asarray(y_true).astype(bool).any():
        return choice(None, "no positive in the validation split: 0.5")
    if objective in ("f1_positive", "f1_macro"):
        best = max(GRID_HUNDREDTHS, key=lambda h: (round(values[h], 12), -abs(h - 50), -h))
        return choice(best)
    defined = {h: v for h, v in values.items() if v is not None}
    meeting = [h for h, v in defined.items() if v >= target - 1e-12]
    if objective == "target_recall":
        if meeting:
            return choice(max(meeting), met=True)
        lowest = GRID_HUNDREDTHS[0]
        return choice(lowest, f"recall target {target:g} not reached: best recall "
                              f"{values[lowest]:.3f} at {lowest / 100:.2f}", met=False)
    if meeting:
        return choice(min(meeting), met=True)
    if not defined:
        return choice(None, "no threshold predicts a positive: 0.5", met=False)
    best = max(defined, key=lambda h: (defined[h], -h))
    return choice(best, f"precision target {target:g} not reached: best precision "
                        f"{defined[best]:.3f} at {best / 100:.2f}", met=False)


def calibrate(y_true: np.ndarray, scores: np.ndarray, labels: Sequence[str], objective: str = "f1_positive",
              targets: Mapping[str, float] | None = None, method: str = "validation",
              folds: int | None = None, groups: int | None = None, group_field: str | None = None,
              note: str = "") -> tuple[dict[str, float], dict[str, Any]]:
    """Per-label thresholds and the calibration report recorded on the model version:
    `{"objective", "method", "folds", "per_label": {label: ThresholdChoice.as_dict() +
    "positives"}}` (`positives`: how many positives the pick rested on), plus `groups`,
    `group_field` and `note` for group_cross_validation (groups 0 and the note: it fell back to
    stratified folds). `targets` maps label -> target for the target objectives (a label
    without one: DEFAULT_TARGET). `method`, `folds`, `groups` and `note` only record where
    `scores` came from (see `CALIBRATIONS`)."""
    if method not in CALIBRATIONS:
        raise ValueError(f"unknown threshold calibration {method!r}; valid: {', '.join(CALIBRATIONS)}")
    targets = dict(targets or {})
    thresholds: dict[str, float] = {}
    per_label: dict[str, Any] = {}
    for j, name in enumerate(labels):
        picked = pick_threshold(y_true[:, j], scores[:, j], objective, targets.get(name))
        thresholds[name] = picked.threshold
        per_label[name] = {**picked.as_dict(), "positives": int(np.asarray(y_true[:, j]).astype(bool).sum())}
    report: dict[str, Any] = {"objective": objective, "method": method, "folds": folds}
    if method == "group_cross_validation":
        report.update(groups=groups, group_field=group_field, note=note)
    report["per_label"] = per_label
    return thresholds, report


def out_of_fold_scores(n: int, n_labels: int, folds: Sequence[Sequence[int]],
                       fit_and_score: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """(n, n_labels) scores where row i comes from a model that never saw row i:
    `fit_and_score(train_idx, held_idx)` fits on the other folds and scores the held-out fold.
    Every row must lie in exactly one fold."""
    out = np.full((n, n_labels), np.nan)
    seen = np.zeros(n, dtype=bool)
    for fold in folds:
        held = np.asarray(sorted(fold), dtype=np.int64)
        if seen[held].any():
            raise ValueError("a row lies in two folds")
        seen[held] = True
        train = np.flatnonzero(~np.isin(np.arange(n), held))
        out[held] = np.asarray(fit_and_score(train, held), dtype=np.float64).reshape(len(held), n_labels)
    if not seen.all():
        raise ValueError(f"{int((~seen).sum())} rows lie in no fold")
    return out


def check_targets(targets: Mapping[str, Any], labels: Sequence[str]) -> list[str]:
    """Problems with a label -> target mapping (empty when fine): unknown labels, values
    outside (0, 1]."""
    problems = []
    known = set(labels)
    for name, value in targets.items():
        if name not in known:
            problems.append(f"unknown label {name!r}; labels are {', '.join(labels)}")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            problems.append(f"target of {name!r} must be a number in (0, 1], got {value!r}")
    return problems
