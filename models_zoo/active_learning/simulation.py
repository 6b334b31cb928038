"""Active-learning simulation on already-labelled data (pure: arrays in, curves out, seeded).

For each seed:
1. the examples are split into a pool and a test side (`test_fraction`, stratified on the
   simulated label, seeded);
2. with `prevalence`, the pool and the test side are each subsampled to that share of positives
   of the label (`starts.subsample_to_prevalence`): the stream an admin labels on an event's
   first morning, simulated on a balanced sample;
3. "full" is the project's recipe trained on the whole pool;
4. for each start (`starts.pick_start`: random, nearest to a description, another project's
   likely positives, keyword hits) and each strategy: the first `n0` labels are the start's,
   then `rounds` rounds of `batch` more picked by the strategy from the model of the round.

Every round trains with the project's own recipe (`models_zoo.recipe.TrainingRecipe`: the same
split, head, class weighting, threshold objective and calibration as a training run on those
labels), and F1 is measured on the test side with the thresholds the round calibrated (issue
18: fitted at 0.5, the old simulation scored 0 for every strategy on a 3% stream). While a
round cannot train (fewer than 6 labels, one class), it predicts nothing and the next batch is
random, as the live queue hands out unscored examples in random order.

Figures (models_zoo.active_learning.figures) per start, strategy and label, with their spread
over seeds: F1, AULC, labels to 95% of the full F1, labels to `target_f1`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models_zoo.active_learning import scoring
from models_zoo.active_learning.figures import aulc, f1_per_label, macro_f1, spread, summarise
from models_zoo.active_learning.starts import pick_start, subsample_to_prevalence
from models_zoo.recipe import TrainingRecipe, decisions_of, scores_of
from models_zoo.splits import stratified_split

SIMULATION_STRATEGIES = ("random", "least_confidence", "margin", "margin_min", "entropy",
                         "likely_positive", "margin_diverse", "margin_mixed")
# Strategies that need the simulated label (`label_index`).
LABEL_STRATEGIES = ("likely_positive", "margin_mixed")
DIVERSE_M = 5

__all__ = ["SIMULATION_STRATEGIES", "LABEL_STRATEGIES", "Start", "SimulationResult", "simulate",
           "aulc", "macro_f1"]


@dataclass
class Start:
    """One way to pick the first n0 labels; arrays are aligned with the simulated rows."""

    kind: str = "random"
    spec: Any = "random"  # the request's value, echoed in the result
    closeness: np.ndarray | None = None  # query: best cosine to the description(s)
    scores: np.ndarray | None = None  # model_version: the other model's probability of the label
    matches: np.ndarray | None = None  # keywords: the text matches a keyword


@dataclass
class SimulationResult:
    full_f1: float
    result: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"full_f1": self.full_f1, **self.result}

    @property
    def curves(self) -> dict[str, list[dict[str, float]]]:
        return self.result["curves"]

    @property
    def aulc(self) -> dict[str, float]:
        return self.result["aulc"]

    @property
    def labels_to_95(self) -> dict[str, int | None]:
        return self.result["labels_to_95"]


def _ranked(priority: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Positions by priority, highest first; ties in random (seeded) order, so a model that
    scores everything alike does not hand out the first rows."""
    shuffled = rng.permutation(len(priority))
    return shuffled[np.argsort(-np.asarray(priority, dtype=np.float64)[shuffled], kind="stable")]


def pick_batch(strategy: str, probs: np.ndarray, x_unlabelled: np.ndarray, task_type: str,
               batch: int, rng: np.random.Generator, label_index: int | None) -> np.ndarray:
    """Positions (into the unlabelled rows) of the next batch under `strategy`.

    `margin_mixed` (issue 18, rare labels): half the batch (rounded up) are the likeliest
    positives of the label, the rest the most unsure by margin among the others."""
    n = len(probs)
    batch = min(batch, n)
    if strategy == "random":
        return rng.choice(n, size=batch, replace=False)
    if strategy == "margin_diverse":
        return scoring.diverse_batch(scoring.margin(probs, task_type), x_unlabelled, batch,
                                     DIVERSE_M, rng)
    if strategy == "margin_mixed":
        if label_index is None:
            raise ValueError("margin_mixed needs the label to find positives of")
        likely = _ranked(scoring.likely_positive(probs, label_index), rng)[: (batch + 1) // 2]
        unsure = [i for i in _ranked(scoring.margin(probs, task_type), rng) if i not in set(likely)]
        return np.concatenate([likely, np.asarray(unsure[: batch - len(likely)], dtype=np.int64)])
    priority = scoring.priorities(strategy, probs, task_type, label_index=label_index)
    return _ranked(priority, rng)[:batch]


def _test_f1(model: Any, x_test: np.ndarray, y_test: np.ndarray) -> np.ndarray:
    if model is None:  # no model: nothing is predicted positive
        return f1_per_label(y_test, np.zeros_like(y_test))
    return f1_per_label(y_test, decisions_of(model, scores_of(model, x_test)))


def simulate(x: np.ndarray, y: np.ndarray, recipe: TrainingRecipe, strategies: Sequence[str], *,
             n0: int, batch: int, rounds: int, seeds: int, test_fraction: float,
             label_index: int | None = None, prevalence: float | None = None,
             starts: Sequence[Start] | None = None, target_f1: float | None = None,
             values: Sequence[Any] | None = None, groups: Sequence[Any] | None = None,
             progress: Callable[[float], None] | None = None,
             on_round: Callable[[dict[str, Any]], None] | None = None) -> SimulationResult:
    """Run the simulation (see the module docstring). `x`: (n, d) vectors and `y`: (n, L) 0/1
    gold, rows in example id order (a round's labels are then in the order a training run
    reads them); `values`: the rows' metadata values for a group or date validation split;
    `groups`: their values of the recipe's `group_field` (group cross-validation).
    `on_round(info)` sees every round: {seed, start, strategy, rows (labelled row indices),
    model}. Returns the figures (see `SimulationResult.as_dict`)."""
    # The vectors keep their dtype (the store's float32 or float16): a training run fits on
    # them as stored, and so must a round.
    x = np.asarray(x)
    y = np.asarray(y, dtype=np.int64).reshape(len(x), -1)
    labels = list(recipe.labels)
    starts = list(starts or [Start()])
    if prevalence is not None and label_index is None:
        raise ValueError("a prevalence needs the label whose positives it counts")
    vals = None if values is None else np.asarray(list(values), dtype=object)
    grps = None if groups is None else np.asarray(list(groups), dtype=object)
    steps, done = seeds * (1 + len(starts) * len(strategies) * (rounds + 1)), 0
    # [start][strategy] -> list over seeds of (rounds + 1, L) F1 arrays
    f1s: list[dict[str, list[np.ndarray]]] = [{s: [] for s in strategies} for _ in starts]
    full_rows: list[np.ndarray] = []
    start_positives: list[list[int]] = [[] for _ in starts]
    sizes: list[dict[str, int]] = []
    counts: list[int] = []

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done / steps)

    def fit(rows: np.ndarray) -> Any:
        return recipe.fit(x[rows], y[rows], None if vals is None else vals[rows],
                          None if grps is None else list(grps[rows]))

    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        keys = ([str(v) for v in y[:, label_index]] if label_index is not None else recipe.keys(y))
        pool_list, test_list = stratified_split(keys, test_fraction, rng)
        pool, test = np.asarray(pool_list), np.asarray(test_list)
        if prevalence is not None:
            pool = pool[subsample_to_prevalence(y[pool, label_index] == 1, prevalence, rng)]
            test = test[subsample_to_prevalence(y[test, label_index] == 1, prevalence, rng)]
        positives = (lambda rows: int(y[rows, label_index].sum())) if label_index is not None else (lambda rows: 0)
        sizes.append({"pool": len(pool), "pool_positives": positives(pool), "test": len(test),
                      "test_positives": positives(test)})
        full_rows.append(_test_f1(fit(pool), x[test], y[test]))
        tick()
        for si, start in enumerate(starts):
            first = pick_start(start.kind, n0, np.random.default_rng([seed, 1_000 + si]), n=len(pool),
                               closeness=None if start.closeness is None else start.closeness[pool],
                               scores=None if start.scores is None else start.scores[pool],
                               matches=None if start.matches is None else start.matches[pool])
            start_positives[si].append(positives(pool[first]))
            for k, strategy in enumerate(strategies):
                srng = np.random.default_rng([seed, si, k])
                chosen = np.zeros(len(pool), dtype=bool)
                chosen[first] = True
                curve: list[np.ndarray] = []
                seed_counts: list[int] = []
                for r in range(rounds + 1):
                    rows = pool[np.flatnonzero(chosen)]
                    model = fit(rows)
                    curve.append(_test_f1(model, x[test], y[test]))
                    seed_counts.append(len(rows))
                    if on_round is not None:
                        on_round({"seed": seed, "start": start.kind, "strategy": strategy,
                                  "rows": rows, "model": model})
                    tick()
                    rest = np.flatnonzero(~chosen)
                    if r == rounds or len(rest) == 0:
                        continue
                    if model is None:
                        picked = srng.choice(len(rest), size=min(batch, len(rest)), replace=False)
                    else:
                        picked = pick_batch(strategy, scores_of(model, x[pool[rest]]), x[pool[rest]],
                                            recipe.task_type, batch, srng, label_index)
                    chosen[rest[picked]] = True
                f1s[si][strategy].append(np.asarray(curve))
                counts = seed_counts
    return _result(labels, starts, strategies, f1s, np.asarray(full_rows), start_positives, sizes,
                   counts, target_f1, recipe)


def _result(labels: list[str], starts: list[Start], strategies: Sequence[str],
            f1s: list[dict[str, list[np.ndarray]]], full: np.ndarray,
            start_positives: list[list[int]], sizes: list[dict[str, int]], counts: list[int],
            target_f1: float | None, recipe: TrainingRecipe) -> SimulationResult:
    full_macro = full.mean(axis=1)
    out_starts = []
    for si, start in enumerate(starts):
        per_strategy = {}
        for strategy in strategies:
            curves = np.asarray(f1s[si][strategy])  # (seeds, rounds + 1, L)
            per_strategy[strategy] = {
                "overall": summarise(counts, curves.mean(axis=2), full_macro, target_f1),
                "per_label": {name: summarise(counts, curves[:, :, j], full[:, j], target_f1)
                              for j, name in enumerate(labels)},
            }
        out_starts.append({"start": start.spec, "kind": start.kind,
                           "start_positives": spread(start_positives[si]),
                           "strategies": per_strategy})
    first = out_starts[0]["strategies"]
    result = {
        "labels": labels,
        "full": {"f1": spread(full_macro.tolist()),
                 "per_label": {name: spread(full[:, j].tolist()) for j, name in enumerate(labels)}},
        "curves": {s: v["overall"]["curve"] for s, v in first.items()},
        "aulc": {s: v["overall"]["mean_curve"]["aulc"] for s, v in first.items()},
        "labels_to_95": {s: v["overall"]["mean_curve"]["labels_to_95"] for s, v in first.items()},
        "labels_to_target": {s: v["overall"]["mean_curve"]["labels_to_target"] for s, v in first.items()},
        "starts": out_starts,
        "sizes": {key: spread([s[key] for s in sizes]) for key in sizes[0]} if sizes else {},
        "recipe": {"config": {k: recipe.config.get(k) for k in (
            "head", "class_weight", "threshold_objective", "threshold_calibration",
            "calibration_folds", "calibration_group_field", "C", "seed")}, "split": recipe.split, "note": recipe.note},
    }
    return SimulationResult(full_f1=round(float(full_macro.mean()), 4), result=result)
