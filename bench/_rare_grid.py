"""The prevalence grid of `bench/defaults_grid.py rare` (issue 18): embedding_head's recipe for
rare labels, chosen by measurement on the same group hold-outs as the balanced grid.

For every set (CrisisLex T6 leave-one-event-out, T26 `informative` by event in 5 folds,
HatEval train -> dev), every fold, every prevalence (the balanced set as it is, then 10%, 3%
and 1% positives) and every subsampling seed:

- positives are subsampled INSIDE EACH GROUP to the prevalence (the product's
  `models_zoo.active_learning.starts.subsample_to_prevalence`), on the training groups and on
  the held-out groups alike, so the test side has the same rate;
- the training groups are split 80/20 into train and validation by the product's stratified
  split (`models_zoo.splits.stratified_split`, as a default run does);
- embedding_head's logistic head is fitted on train for each class weighting, and the
  threshold is picked under each objective (positive-class F1, macro-F1 over both classes) on
  each calibration source: the validation split, or out-of-fold scores of a 5-fold
  cross-validation on train (`EmbeddingHeadBackend.out_of_fold`, what
  `threshold_calibration: cross_validation` runs).

Figures on the held-out groups: positive-class F1 (what a rare label needs), macro-F1 over both
classes, ROC-AUC; mean over folds and seeds per set, then over sets.
"""
from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence

import numpy as np

from bench._group_sets import GroupSet, vectors_of

WEIGHTS = ("none", "balanced")
OBJECTIVES = ("f1_positive", "f1_macro")
CALIBRATIONS = ("validation", "cross_validation")
METRICS = ("pos_f1", "macro_f1", "roc_auc")


def emit(line: str) -> None:
    print(line, flush=True)


def subsample_groups(y: np.ndarray, groups: Sequence[str], members: Sequence[int],
                     prevalence: float | None, rng: np.random.Generator) -> list[int]:
    """`members` with positives subsampled to `prevalence` inside each group (None: all)."""
    from models_zoo.active_learning.starts import subsample_to_prevalence

    if prevalence is None:
        return sorted(members)
    by_group: dict[str, list[int]] = {}
    for i in members:
        by_group.setdefault(groups[i], []).append(i)
    kept: list[int] = []
    for g in sorted(by_group):
        idx = np.asarray(by_group[g])
        kept += idx[subsample_to_prevalence(y[idx] == 1, prevalence, rng)].tolist()
    return sorted(kept)


def figures(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import f1_score, roc_auc_score

    pred = scores >= threshold
    return {"pos_f1": float(f1_score(y, pred, zero_division=0)),
            "macro_f1": float(f1_score(y, pred, average="macro", zero_division=0)),
            "roc_auc": float(roc_auc_score(y, scores)) if 0 < y.sum() < len(y) else float("nan")}


def run_fold(s: GroupSet, x: np.ndarray, y: np.ndarray, held: Sequence[str], prevalence: float | None,
             seed: int) -> dict[str, dict[str, float]]:
    from models_zoo.backends.embedding_head import EmbeddingHeadBackend
    from models_zoo.splits import stratified_split
    from models_zoo.thresholds import pick_threshold

    rng = np.random.default_rng([seed, int(prevalence * 1000) if prevalence else 0])
    held_set = set(held)
    rest = [i for i, g in enumerate(s.groups) if g not in held_set]
    test = [i for i, g in enumerate(s.groups) if g in held_set]
    rest = subsample_groups(y, s.groups, rest, prevalence, rng)
    test = subsample_groups(y, s.groups, test, prevalence, rng)
    keys = [str(int(y[i])) for i in rest]
    tr_pos, va_pos = stratified_split(keys, 0.2, np.random.default_rng(seed))
    train, val = [rest[i] for i in tr_pos], [rest[i] for i in va_pos]
    out: dict[str, dict[str, float]] = {}
    for weight in WEIGHTS:
        backend = EmbeddingHeadBackend([s.label], "binary", {"class_weight": weight, "seed": seed})
        backend._fit_head(x[train], y[train][:, None])
        sources = {"validation": (y[val], backend._scores(x[val])[:, 0])}
        (y_oof, oof), _ = backend.out_of_fold(x[train], y[train][:, None])
        sources["cross_validation"] = (y_oof[:, 0], oof[:, 0])
        test_scores = backend._scores(x[test])[:, 0]
        for objective, calibration in itertools.product(OBJECTIVES, CALIBRATIONS):
            y_cal, s_cal = sources[calibration]
            t = pick_threshold(y_cal, s_cal, objective).threshold
            out[f"{weight}/{objective}/{calibration}"] = {
                **figures(y[test], test_scores, t), "threshold": t,
                "train_pos": int(y[train].sum()), "val_pos": int(y[val].sum()),
                "test_pos": int(y[test].sum())}
    return out


def grid_rare(sets: list[GroupSet], prevalences: Sequence[float | None], seeds: int,
              out_path: str = "/tmp/vigia-h18-rare-grid.json") -> dict:
    """results[prevalence][config][set] = {metric: mean over folds and seeds}."""
    raw: dict[str, dict[str, dict[str, list[dict[str, float]]]]] = {}
    for s in sets:
        x, y = vectors_of(s), s.y().astype(np.int64)
        emit(f"{s.name}: {len(s.items)} rows, {len(s.folds)} group folds, positives {y.mean():.2f}")
        for prevalence in prevalences:
            name = "balanced" if prevalence is None else f"{prevalence:.0%}"
            started = time.perf_counter()
            counts = []
            for seed in range(seeds if prevalence is not None else 1):
                for held in s.folds:
                    for config, fig in run_fold(s, x, y, held, prevalence, seed).items():
                        raw.setdefault(name, {}).setdefault(config, {}).setdefault(s.name, []).append(fig)
                    counts.append((fig["train_pos"], fig["val_pos"], fig["test_pos"]))
            c = np.asarray(counts)
            emit(f"  {s.name} {name}: positives train {c[:, 0].mean():.0f} / validation "
                 f"{c[:, 1].mean():.0f} / test {c[:, 2].mean():.0f} per fold (mean), "
                 f"{time.perf_counter() - started:.0f}s")
    summary: dict = {}
    for name, per_config in raw.items():
        for config, per_set in per_config.items():
            row = {f"{sn}.{m}": float(np.nanmean([f[m] for f in folds]))
                   for sn, folds in per_set.items() for m in METRICS}
            for m in METRICS:
                row[f"mean.{m}"] = float(np.mean([row[f"{sn}.{m}"] for sn in per_set]))
            summary.setdefault(name, {})[config] = row
    print_rare(summary, [s.name for s in sets])
    with open(out_path, "w") as fh:
        json.dump(summary, fh, indent=1)
    emit(f"written {out_path}")
    return summary


def print_rare(summary: dict, set_names: Sequence[str]) -> None:
    configs = sorted(next(iter(summary.values())))
    for name, rows in summary.items():
        emit(f"== {name}: config | " + " | ".join(f"{sn} posF1 / macroF1" for sn in set_names)
             + " | mean posF1 / macroF1 / AUC")
        for config in sorted(configs, key=lambda c: -rows[c]["mean.pos_f1"]):
            r = rows[config]
            cells = " | ".join(f"{r[f'{sn}.pos_f1']:.3f} / {r[f'{sn}.macro_f1']:.3f}" for sn in set_names)
            emit(f"{name} {config} | {cells} | {r['mean.pos_f1']:.3f} / {r['mean.macro_f1']:.3f} / "
                 f"{r['mean.roc_auc']:.3f}")
    emit("== over prevalences: config | " + " | ".join(summary) + " | mean posF1 | worst rank")
    ranks = {c: [sorted(configs, key=lambda k: -rows[k]["mean.pos_f1"]).index(c) + 1
                 for rows in summary.values()] for c in configs}
    for config in sorted(configs, key=lambda c: -np.mean([rows[c]["mean.pos_f1"] for rows in summary.values()])):
        values = [rows[config]["mean.pos_f1"] for rows in summary.values()]
        emit(f"overall {config} | " + " | ".join(f"{v:.3f}" for v in values)
             + f" | {np.mean(values):.3f} | {max(ranks[config])}")
