"""Active-learning priorities: pure functions over a model's scores (and vectors), no ORM.

Every function takes `probs`, an (n, L) float array of the current model's scores in label
order, and returns a priority per example, higher = hand it out first. `task_type` says how to
read the rows: "singlelabel" rows are a softmax over the labels; "binary" rows hold one
probability (of accept); "multilabel" (and multimodal-multilabel) rows are one independent
sigmoid per label. The queue stores these priorities in `Example.al_score` so the claim stays
one indexed `ORDER BY al_score DESC` (see models_zoo.services.queue_scores).

Uncertainty priorities are in [0, 1] (1 = most unsure):
- least_confidence: 1 - p(top class) (binary: 1 - max(p, 1 - p), multilabel: of the least
  certain label).
- margin: 1 - (p1 - p2) between the two best classes (binary: 1 - |2p - 1|); multilabel: one
  minus the MEAN per-label margin |2p_l - 1| (`margin_min`: one minus the MINIMUM).
- entropy: Shannon entropy over the classes divided by log(L) (binary: of (p, 1 - p));
  multilabel: the MAXIMUM per-label binary entropy (bits, so in [0, 1]).
- spans (task type "spans"): every uncertainty strategy ranks by `span_uncertainty`, one minus
  the span tagger's mean per-word confidence (the marginal of each word's decoded BIO tag), so
  the tweets whose tagging the model is least sure of come first.
- likely_positive: p(label) itself, "positives first" for a rare label (cold start).
- margin_diverse: margin, plus 1 for one representative per k-means cluster of the top
  m x batch margin candidates (see `diverse_batch`).

We do not use small-text (PyPI, MIT): its query strategies take its own classifier and dataset
objects and return indices of one batch, while the queue needs a priority for every example
stored in a column (a million rows, rescored after each promotion, claimed by many annotators
through one indexed query); the formulas are a few lines of numpy each, tested here on
hand-made scores.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

MULTILABEL_TYPES = ("multilabel", "multimodal-multilabel")
_EPS = 1e-12


def _as_2d(probs: np.ndarray) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim == 1:
        p = p[:, None]
    if p.ndim != 2:
        raise ValueError(f"probs must be (n, L), got shape {p.shape}")
    return np.clip(p, 0.0, 1.0)


def _binary_margins(p: np.ndarray) -> np.ndarray:
    """Per-label margin |p - (1 - p)| of independent sigmoids, (n, L)."""
    return np.abs(2.0 * p - 1.0)


def _binary_entropy(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, _EPS, 1 - _EPS)
    return -(q * np.log2(q) + (1 - q) * np.log2(1 - q))


def _independent(task_type: str, p: np.ndarray) -> bool:
    # A one-column single-label row is a binary decision too.
    return task_type in MULTILABEL_TYPES or task_type == "binary" or p.shape[1] == 1


def least_confidence(probs: np.ndarray, task_type: str) -> np.ndarray:
    p = _as_2d(probs)
    if _independent(task_type, p):
        return 1.0 - np.maximum(p, 1.0 - p).min(axis=1)
    return 1.0 - p.max(axis=1)


def margin(probs: np.ndarray, task_type: str) -> np.ndarray:
    p = _as_2d(probs)
    if _independent(task_type, p):
        return 1.0 - _binary_margins(p).mean(axis=1)
    top2 = -np.sort(-p, axis=1)[:, :2]
    return 1.0 - (top2[:, 0] - top2[:, 1])


def margin_min(probs: np.ndarray, task_type: str) -> np.ndarray:
    p = _as_2d(probs)
    if _independent(task_type, p):
        return 1.0 - _binary_margins(p).min(axis=1)
    return margin(p, task_type)


def entropy(probs: np.ndarray, task_type: str) -> np.ndarray:
    p = _as_2d(probs)
    if _independent(task_type, p):
        return _binary_entropy(p).max(axis=1)
    q = np.clip(p, _EPS, 1.0)
    h = -(p * np.log(q)).sum(axis=1)
    return h / np.log(p.shape[1]) if p.shape[1] > 1 else h


def likely_positive(probs: np.ndarray, label_index: int) -> np.ndarray:
    p = _as_2d(probs)
    if not 0 <= label_index < p.shape[1]:
        raise ValueError(f"label index {label_index} out of range for {p.shape[1]} labels")
    return p[:, label_index].copy()


def kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 25) -> np.ndarray:
    """Centres of k-means (k-means++ seeding, Lloyd iterations) on the rows of `x`, seeded."""
    n = x.shape[0]
    k = min(k, n)
    centres = np.empty((k, x.shape[1]), dtype=np.float64)
    centres[0] = x[rng.integers(n)]
    d2 = ((x - centres[0]) ** 2).sum(axis=1)
    for c in range(1, k):
        total = d2.sum()
        pick = rng.choice(n, p=d2 / total) if total > 0 else rng.integers(n)
        centres[c] = x[pick]
        d2 = np.minimum(d2, ((x - centres[c]) ** 2).sum(axis=1))
    for _ in range(iters):
        dist = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        assign = dist.argmin(axis=1)
        moved = centres.copy()
        for c in range(k):
            members = x[assign == c]
            if len(members):
                moved[c] = members.mean(axis=0)
        if np.allclose(moved, centres):
            break
        centres = moved
    return centres


def diverse_batch(priority: np.ndarray, vectors: np.ndarray, batch: int, m: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Indices of `batch` examples: k-means (k = batch) over the top m x batch by `priority`,
    then the candidate nearest each centre (Zhdanov 2019, "diverse mini-batch active learning").

    Why k-means over the top candidates rather than greedy core-set: the core-set's farthest-
    first picks go to outliers (spam, other languages) that are far from everything yet
    uninformative; restricting to the most uncertain candidates and taking the medoid-like
    point of each cluster keeps the picks uncertain AND spread over distinct topics, and costs
    O(m * batch^2 * d) per rescore, independent of the project's size.
    """
    priority = np.asarray(priority, dtype=np.float64)
    n = priority.shape[0]
    if n == 0 or batch <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argsort(-priority, kind="stable")[: min(n, m * batch)]
    x = np.asarray(vectors, dtype=np.float64)[top]
    centres = kmeans(x, batch, rng)
    chosen: list[int] = []
    for centre in centres:
        order = np.argsort(((x - centre) ** 2).sum(axis=1), kind="stable")
        pick = next((int(top[i]) for i in order if int(top[i]) not in chosen), None)
        if pick is not None:
            chosen.append(pick)
    return np.asarray(chosen, dtype=np.int64)


def margin_diverse(probs: np.ndarray, task_type: str, vectors: np.ndarray | None,
                   rng: np.random.Generator, batch: int = 20, m: int = 5) -> np.ndarray:
    """Margin priorities with the diverse batch lifted above every other example (+1)."""
    base = margin(probs, task_type)
    if vectors is None or len(base) == 0:
        return base
    out = base.copy()
    out[diverse_batch(base, vectors, batch, m, rng)] += 1.0
    return out


def span_uncertainty(confidence: np.ndarray) -> np.ndarray:
    """Spans: 1 - mean per-word confidence of the tagger (lowest confidence first)."""
    c = np.asarray(confidence, dtype=np.float64)
    if c.ndim != 1:
        raise ValueError(f"confidence must be (n,), got shape {c.shape}")
    return 1.0 - np.clip(c, 0.0, 1.0)


UNCERTAINTY: dict[str, Callable[[np.ndarray, str], np.ndarray]] = {
    "least_confidence": least_confidence,
    "margin": margin,
    "margin_min": margin_min,
    "entropy": entropy,
}


def priorities(name: str, probs: np.ndarray, task_type: str, *, label_index: int | None = None,
               vectors: np.ndarray | None = None, rng: np.random.Generator | None = None,
               batch: int = 20) -> np.ndarray:
    """The priority of every row under strategy `name` (see the module docstring)."""
    if name in UNCERTAINTY:
        return UNCERTAINTY[name](probs, task_type)
    if name == "likely_positive":
        if label_index is None:
            raise ValueError("likely_positive needs the project's queue_label")
        return likely_positive(probs, label_index)
    if name == "margin_diverse":
        return margin_diverse(probs, task_type, vectors, rng or np.random.default_rng(0), batch)
    raise ValueError(f"{name!r} is not an active-learning strategy")
