"""Defaults chosen by measurement (issue 12): a small grid on the shared sets with GROUP
hold-outs (bench/_group_sets.py: CrisisLex T6 leave-one-event-out, CrisisLex T26 by event in 5
folds, HatEval train -> dev), never on random splits.

    OMP_NUM_THREADS=1 nice .venv/bin/python -m bench.defaults_grid embedding_head
    OMP_NUM_THREADS=1 nice .venv/bin/python -m bench.defaults_grid transformer_classifier
    OMP_NUM_THREADS=1 nice .venv/bin/python -m bench.defaults_grid rare [--rare-seeds 3]

rare (issue 18, bench/_rare_grid.py): embedding_head's class weighting (none | balanced) x
threshold objective (f1_positive | f1_macro) x threshold calibration (validation split |
5-fold cross-validation on train) on the balanced sets and at 10%, 3% and 1% positives
(positives subsampled inside each group, test groups at the same rate).

embedding_head: head (logistic regression | random forest) x class weighting (none | balanced)
x threshold objective (f1_positive | f1_macro | none), on cached MiniLM vectors. Inside each
fold's training groups a seeded random 20% is the validation split (thresholds), as a product
run with the default split would do; the held-out groups are the test side.

transformer_classifier (CPU, 2 shared cores): learning rate x epochs x max length on TINY
subsamples (one fold per set, `--tc-train` training rows, 100 validation rows, `--tc-test` test
rows); the sizes are printed.

Figures per configuration: mean over sets of the per-set mean over folds of the test macro-F1
over both classes (the metric seeds 000-001 and HatEval report), positive-class F1, ROC-AUC.
The best configuration by mean macro-F1 is printed last.
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import time
from collections.abc import Sequence

import numpy as np

from bench._group_sets import GroupSet, load_sets, vectors_of
from models_zoo.backends.base import Item


def emit(line: str) -> None:
    print(line, flush=True)


def folds_of(s: GroupSet, seed: int = 0):
    """(train_idx, val_idx, test_idx) per fold: test = held-out groups; 20% random of the rest
    validates."""
    for held in s.folds:
        held_set = set(held)
        rest = [i for i, g in enumerate(s.groups) if g not in held_set]
        test = [i for i, g in enumerate(s.groups) if g in held_set]
        order = list(rest)
        random.Random(seed).shuffle(order)
        cut = round(len(order) * 0.2)
        yield sorted(order[cut:]), sorted(order[:cut]), test


def test_figures(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import f1_score, roc_auc_score

    pred = scores >= threshold
    return {"macro_f1": float(f1_score(y, pred, average="macro", zero_division=0)),
            "pos_f1": float(f1_score(y, pred, zero_division=0)),
            "roc_auc": float(roc_auc_score(y, scores)) if 0 < y.sum() < len(y) else float("nan")}


def summarise(results: dict[str, dict[str, list[dict[str, float]]]]) -> dict[str, dict[str, float]]:
    """config -> {set.metric: mean over folds, mean.metric: mean over sets}."""
    out = {}
    for config, per_set in results.items():
        row: dict[str, float] = {}
        for name, folds in per_set.items():
            for key in ("macro_f1", "pos_f1", "roc_auc"):
                row[f"{name}.{key}"] = float(np.mean([f[key] for f in folds]))
        for key in ("macro_f1", "pos_f1", "roc_auc"):
            row[f"mean.{key}"] = float(np.mean([row[f"{n}.{key}"] for n in per_set]))
        out[config] = row
    return out


def print_table(summary: dict[str, dict[str, float]], sets: Sequence[str]) -> str:
    emit("config | " + " | ".join(f"{s} macroF1 / posF1 / AUC" for s in sets) + " | mean macroF1 / AUC")
    for config, row in sorted(summary.items(), key=lambda kv: -kv[1]["mean.macro_f1"]):
        cells = " | ".join(f"{row[f'{s}.macro_f1']:.3f} / {row[f'{s}.pos_f1']:.3f} / {row[f'{s}.roc_auc']:.3f}"
                           for s in sets)
        emit(f"{config} | {cells} | {row['mean.macro_f1']:.3f} / {row['mean.roc_auc']:.3f}")
    best = max(summary, key=lambda c: summary[c]["mean.macro_f1"])
    emit(f"best {best} mean_macro_f1 {summary[best]['mean.macro_f1']:.4f}")
    return best


def items_of(s: GroupSet, idx: Sequence[int]) -> list[Item]:
    return [s.items[i] for i in idx]


def grid_embedding_head(sets: list[GroupSet]) -> None:
    from models_zoo.backends.embedding_head import EmbeddingHeadBackend

    objectives = ("f1_positive", "f1_macro", "none")
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    for s in sets:
        x = vectors_of(s)
        y = s.y()
        emit(f"{s.name}: {len(s.items)} rows, {len(s.folds)} group folds, positives {y.mean():.2f}")
        for head, weight in itertools.product(("logistic_regression", "random_forest"), ("none", "balanced")):
            started = time.perf_counter()
            for train, val, test in folds_of(s):
                backend = EmbeddingHeadBackend([s.label], "binary", {"head": head, "class_weight": weight})
                backend.fit_embeddings(x[train], items_of(s, train), x[val], items_of(s, val))
                val_scores = backend._scores(x[val])[:, 0]
                test_scores = backend._scores(x[test])[:, 0]
                from models_zoo.thresholds import pick_threshold

                for objective in objectives:
                    t = pick_threshold(y[val], val_scores, objective).threshold
                    key = f"{head}/{weight}/{objective}"
                    results.setdefault(key, {}).setdefault(s.name, []).append(test_figures(y[test], test_scores, t))
            emit(f"  {s.name} {head}/{weight}: {time.perf_counter() - started:.0f}s")
    summary = summarise(results)
    print_table(summary, [s.name for s in sets])
    with open("/tmp/vigia-h12-grid-embedding_head.json", "w") as fh:
        json.dump(summary, fh, indent=1)


def grid_transformer(sets: list[GroupSet], args: argparse.Namespace) -> None:
    from models_zoo.backends.transformer_classifier import TransformerClassifierBackend
    from models_zoo.thresholds import pick_threshold

    grid = list(itertools.product(args.lr, args.epochs, args.max_length))
    if args.configs:  # explicit lr,epochs,max_length triples (a one-factor-at-a-time grid)
        grid = [(float(a), int(b), int(c)) for a, b, c in (triple.split(",") for triple in args.configs)]
    sets = [s for s in sets if s.name in args.sets]
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    for s in sets:
        train, val, test = next(folds_of(s))
        rng = random.Random(1)
        train = rng.sample(train, min(args.tc_train, len(train)))
        val = rng.sample(val, min(args.tc_val, len(val)))
        test = rng.sample(test, min(args.tc_test, len(test)))
        y = s.y()
        emit(f"{s.name}: fold 0 held out {s.folds[0][:3]}..., train {len(train)} val {len(val)} test {len(test)}")
        for lr, epochs, max_length in grid:
            started = time.perf_counter()
            backend = TransformerClassifierBackend([s.label], "binary", {
                "learning_rate": lr, "epochs": epochs, "max_length": max_length,
                "early_stopping_patience": epochs, "device": "cpu"})
            backend.fit(items_of(s, train), items_of(s, val))
            val_scores = backend._score_texts([s.items[i].text for i in val])[:, 0]
            test_scores = backend._score_texts([s.items[i].text for i in test])[:, 0]
            t = pick_threshold(y[val], val_scores, args.objective).threshold
            key = f"lr={lr:g}/epochs={epochs}/max_length={max_length}"
            figures = test_figures(y[test], test_scores, t)
            results.setdefault(key, {}).setdefault(s.name, []).append(figures)
            emit(f"  {s.name} {key}: macroF1 {figures['macro_f1']:.3f} AUC {figures['roc_auc']:.3f} "
                 f"best_epoch {backend.metrics.get('best_epoch')} ({time.perf_counter() - started:.0f}s)")
    summary = summarise(results)
    print_table(summary, [s.name for s in sets])
    with open("/tmp/vigia-h12-grid-transformer.json", "w") as fh:
        json.dump(summary, fh, indent=1)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("backend", choices=("embedding_head", "transformer_classifier", "rare"))
    parser.add_argument("--prevalences", nargs="+", default=["balanced", "0.1", "0.03", "0.01"],
                        help="rare: `balanced` and shares of positives")
    parser.add_argument("--rare-seeds", type=int, default=3, help="rare: subsampling seeds per fold")
    parser.add_argument("--t6-per-event", type=int, default=600)
    parser.add_argument("--t26-per-event", type=int, default=150)
    parser.add_argument("--hateval-train", type=int, default=3000)
    parser.add_argument("--lr", type=float, nargs="+", default=[2e-5, 5e-5, 1e-4])
    parser.add_argument("--epochs", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--max-length", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--tc-train", type=int, default=400)
    parser.add_argument("--tc-test", type=int, default=400)
    parser.add_argument("--objective", default="f1_macro")
    parser.add_argument("--configs", nargs="+", help="lr,epochs,max_length triples instead of the product grid")
    parser.add_argument("--sets", nargs="+", default=["t6", "t26", "hateval"])
    parser.add_argument("--tc-val", type=int, default=100)
    args = parser.parse_args(argv)
    sets = load_sets(t6_per_event=args.t6_per_event, t26_per_event=args.t26_per_event,
                     hateval_train=args.hateval_train)
    if args.backend == "rare":
        from bench._rare_grid import grid_rare

        sets = [s for s in sets if s.name in args.sets]
        grid_rare(sets, [None if p == "balanced" else float(p) for p in args.prevalences],
                  args.rare_seeds)
    elif args.backend == "embedding_head":
        grid_embedding_head(sets)
    else:
        grid_transformer(sets, args)


if __name__ == "__main__":
    main()
