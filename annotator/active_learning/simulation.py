"""Active-learning simulation on already-labelled data (pure: arrays in, curves out, seeded).

For each seed: hold out a random `test_fraction` of the examples, draw `n0` random labels
from the rest (the same start for every strategy of that seed), then `rounds` rounds in which
each strategy picks `batch` more from the unlabelled rest and the head is refitted on the
cached vectors (embedding_head's logistic-regression head, the same code that trains
versions, on frozen encoder vectors). Measured: macro-F1 on the held-out split after every
round; "full" = the head trained on every non-test example. Curves report mean and standard
deviation over seeds; AULC is the trapezoid area under the mean curve divided by the range of
labels (so it is a mean F1 over the labelling budget); labels_to_95 is the first label count
whose mean F1 reaches 95% of the full F1 (None when never).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from annotator.active_learning import scoring

SIMULATION_STRATEGIES = ("random", "least_confidence", "margin", "margin_min", "entropy",
                         "likely_positive", "margin_diverse")


@dataclass
class SimulationResult:
    full_f1: float
    curves: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    aulc: dict[str, float] = field(default_factory=dict)
    labels_to_95: dict[str, int | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"full_f1": self.full_f1, "curves": self.curves, "aulc": self.aulc,
                "labels_to_95": self.labels_to_95}


class Head:
    """embedding_head's logistic head on vectors: fit(x, y) then probs(x)."""

    def __init__(self, labels: Sequence[str], task_type: str, seed: int = 0) -> None:
        from models_zoo.backends.embedding_head import EmbeddingHeadBackend

        self._backend = EmbeddingHeadBackend(list(labels), task_type, {"seed": seed})

    def fit(self, x: np.ndarray, y: np.ndarray) -> Head:
        # The head alone: the vectors are cached, thresholds are the plain 0.5 / argmax rule.
        self._backend._fit_logistic(np.asarray(x, dtype=np.float64), y)
        return self

    def probs(self, x: np.ndarray) -> np.ndarray:
        return self._backend._scores(np.asarray(x, dtype=np.float64))


def decide(probs: np.ndarray, task_type: str) -> np.ndarray:
    if task_type == "singlelabel":
        out = np.zeros_like(probs, dtype=bool)
        out[np.arange(len(probs)), probs.argmax(axis=1)] = True
        return out
    return probs >= 0.5


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean over label columns of F1 (single-label: one column per class; binary: the one
    positive column). A column with no positives either way counts F1 = 1 (nothing to find)."""
    t, p = np.asarray(y_true, dtype=bool), np.asarray(y_pred, dtype=bool)
    scores = []
    for j in range(t.shape[1]):
        tp = float(np.sum(t[:, j] & p[:, j]))
        denominator = float(np.sum(t[:, j]) + np.sum(p[:, j]))
        scores.append(1.0 if denominator == 0 else 2 * tp / denominator)
    return float(np.mean(scores))


def _pick(strategy: str, probs: np.ndarray, x_unlabelled: np.ndarray, task_type: str,
          batch: int, rng: np.random.Generator, label_index: int | None) -> np.ndarray:
    """Positions (into the unlabelled rows) of the next batch."""
    n = len(probs)
    batch = min(batch, n)
    if strategy == "random":
        return rng.choice(n, size=batch, replace=False)
    if strategy == "margin_diverse":
        return scoring.diverse_batch(scoring.margin(probs, task_type), x_unlabelled, batch, 5, rng)
    priority = scoring.priorities(strategy, probs, task_type, label_index=label_index)
    return np.argsort(-priority, kind="stable")[:batch]


def aulc(points: Sequence[dict[str, float]]) -> float:
    xs = np.array([p["labels"] for p in points], dtype=float)
    ys = np.array([p["f1_mean"] for p in points], dtype=float)
    if len(xs) < 2 or xs[-1] == xs[0]:
        return float(ys[0]) if len(ys) else 0.0
    return float(np.sum((ys[1:] + ys[:-1]) / 2 * np.diff(xs)) / (xs[-1] - xs[0]))


def simulate(x: np.ndarray, y: np.ndarray, labels: Sequence[str], task_type: str,
             strategies: Sequence[str], *, n0: int, batch: int, rounds: int, seeds: int,
             test_fraction: float, label_index: int | None = None,
             progress: Callable[[float], None] | None = None) -> SimulationResult:
    """Run the simulation (see the module docstring). `y`: (n, L) 0/1 gold matrix."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    n = len(x)
    f1s: dict[str, list[list[float]]] = {s: [] for s in strategies}
    counts: list[int] = []
    full: list[float] = []
    steps, done = seeds * (len(strategies) * (rounds + 1) + 1), 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        order = rng.permutation(n)
        n_test = max(1, int(round(n * test_fraction)))
        test, pool = order[:n_test], order[n_test:]
        start = rng.choice(len(pool), size=min(n0, len(pool)), replace=False)
        full.append(macro_f1(y[test], decide(Head(labels, task_type, seed).fit(x[pool], y[pool])
                                             .probs(x[test]), task_type)))
        done += 1
        for k, strategy in enumerate(strategies):
            srng = np.random.default_rng([seed, k])
            chosen = np.zeros(len(pool), dtype=bool)
            chosen[start] = True
            curve: list[float] = []
            seed_counts: list[int] = []
            for r in range(rounds + 1):
                head = Head(labels, task_type, seed).fit(x[pool[chosen]], y[pool[chosen]])
                curve.append(macro_f1(y[test], decide(head.probs(x[test]), task_type)))
                seed_counts.append(int(chosen.sum()))
                done += 1
                if progress is not None:
                    progress(done / steps)
                rest = np.flatnonzero(~chosen)
                if r == rounds or len(rest) == 0:
                    continue
                picked = _pick(strategy, head.probs(x[pool[rest]]), x[pool[rest]], task_type,
                               batch, srng, label_index)
                chosen[rest[picked]] = True
            f1s[strategy].append(curve)
            counts = seed_counts
    full_f1 = float(np.mean(full))
    result = SimulationResult(full_f1=round(full_f1, 4))
    for strategy in strategies:
        matrix = np.asarray(f1s[strategy], dtype=float)
        points = [{"labels": counts[i], "f1_mean": round(float(matrix[:, i].mean()), 4),
                   "f1_sd": round(float(matrix[:, i].std()), 4)} for i in range(matrix.shape[1])]
        result.curves[strategy] = points
        result.aulc[strategy] = round(aulc(points), 4)
        reached = [p["labels"] for p in points if p["f1_mean"] >= 0.95 * full_f1]
        result.labels_to_95[strategy] = int(reached[0]) if reached else None
    return result
