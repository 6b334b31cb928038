"""How a simulation (and a live queue on its first morning) picks its first labels, and how a
labelled set is cut down to a rare-positive stream: pure functions over arrays, seeded.

Issue 18: the stream a crisis or hate-speech team labels holds 1-5% positives on an event's
first day. An admin who labelled a balanced sample simulates that stream with
`subsample_to_prevalence`; the first `n0` labels come from one of `START_KINDS`:

- `random`: n0 uniform picks (what the simulation did before);
- `query`: the n0 examples nearest to one or more descriptions of the class (cosine of the unit
  vectors; with several descriptions, an example's closeness is its best cosine to any);
- `model_version`: the n0 most likely positives under another project's model (the previous
  event's detector, seed 003's question: does a model of past events find the new one?);
- `keywords`: n0 random picks among the texts that match any keyword (the keyword filter teams
  use today; Hanny et al. 2024 beat it), topped up with random picks when fewer match.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

START_KINDS = ("random", "query", "model_version", "keywords")


def subsample_to_prevalence(positive: np.ndarray, prevalence: float,
                            rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of a subsample whose share of positives is `prevalence` (0 < p < 1).

    Too many positives: every negative stays and round(p * n_neg / (1 - p)) positives are drawn
    (at least one when there is one). Too few: every positive stays and
    round(n_pos * (1 - p) / p) negatives are drawn. Nothing is drawn twice."""
    if not 0 < prevalence < 1:
        raise ValueError(f"prevalence must be strictly between 0 and 1, got {prevalence}")
    flags = np.asarray(positive, dtype=bool)
    pos, neg = np.flatnonzero(flags), np.flatnonzero(~flags)
    if len(pos) == 0 or len(neg) == 0:
        return np.arange(len(flags))
    if len(pos) / len(flags) >= prevalence:
        keep_pos = min(len(pos), max(1, round(prevalence * len(neg) / (1 - prevalence))))
        kept = np.concatenate([neg, rng.choice(pos, size=keep_pos, replace=False)])
    else:
        keep_neg = min(len(neg), max(1, round(len(pos) * (1 - prevalence) / prevalence)))
        kept = np.concatenate([pos, rng.choice(neg, size=keep_neg, replace=False)])
    return np.sort(kept)


def _top(priority: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of the n highest priorities; ties in random (seeded) order."""
    shuffled = rng.permutation(len(priority))
    order = shuffled[np.argsort(-np.asarray(priority, dtype=np.float64)[shuffled], kind="stable")]
    return order[:n]


def query_closeness(vectors: np.ndarray, query_vectors: np.ndarray) -> np.ndarray:
    """Each row's best cosine to any of the query vectors (rows and queries L2-normalised
    here, so stored unit vectors and fresh ones compare alike)."""
    x = np.asarray(vectors, dtype=np.float64)
    q = np.atleast_2d(np.asarray(query_vectors, dtype=np.float64))
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    return (x @ q.T).max(axis=1)


def keyword_matches(texts: Sequence[str], keywords: Sequence[str]) -> np.ndarray:
    """Whether each text contains any keyword as a whole word or phrase, case-insensitively
    ("flood" matches "Flood!" and "#flood", not "floodgates")."""
    words = [k.strip().lower() for k in keywords if k and k.strip()]
    if not words:
        return np.zeros(len(texts), dtype=bool)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)",
                         re.IGNORECASE)
    return np.array([bool(pattern.search(t or "")) for t in texts], dtype=bool)


def pick_start(kind: str, n0: int, rng: np.random.Generator, *,
               closeness: np.ndarray | None = None, scores: np.ndarray | None = None,
               matches: np.ndarray | None = None, n: int | None = None) -> np.ndarray:
    """Positions (into the pool) of the first `n0` labels under start `kind`:
    `closeness` (query: see `query_closeness`), `scores` (model_version: the other model's
    probability of the label), `matches` (keywords: see `keyword_matches`); `n` is the pool
    size for `random`. Highest first for query and model_version."""
    if kind == "random":
        size = len(next(a for a in (closeness, scores, matches) if a is not None)) if n is None else n
        return rng.choice(size, size=min(n0, size), replace=False)
    if kind == "query":
        if closeness is None:
            raise ValueError("a query start needs the pool's closeness to the description")
        return _top(closeness, n0, rng)
    if kind == "model_version":
        if scores is None:
            raise ValueError("a model_version start needs the other model's scores")
        return _top(scores, n0, rng)
    if kind == "keywords":
        if matches is None:
            raise ValueError("a keywords start needs the keyword matches")
        hits = np.flatnonzero(np.asarray(matches, dtype=bool))
        rest = np.flatnonzero(~np.asarray(matches, dtype=bool))
        chosen = rng.choice(hits, size=min(n0, len(hits)), replace=False)
        if len(chosen) < n0 and len(rest):
            chosen = np.concatenate([chosen, rng.choice(rest, size=min(n0 - len(chosen), len(rest)),
                                                        replace=False)])
        return chosen
    raise ValueError(f"unknown start {kind!r}; valid: {', '.join(START_KINDS)}")
