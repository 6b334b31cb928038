"""Stopping hint (Bloodgood and Vijay-Shanker, 2009, "A method for stopping active learning
based on stabilizing predictions"): Cohen's kappa between consecutive model versions'
decisions on a fixed stop set that needs no labels; when it stays above 0.99 for three
versions in a row, more labels of this kind are unlikely to change the model. Pure functions."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

KAPPA_THRESHOLD = 0.99
STABLE_VERSIONS = 3


def cohen_kappa(a: Sequence[object], b: Sequence[object]) -> float:
    """Cohen's kappa of two raters' categorical decisions on the same items (1.0 when both
    agree everywhere, even on a single category)."""
    if len(a) != len(b):
        raise ValueError("both raters must decide the same items")
    if not len(a):
        raise ValueError("no items to compare")
    x, y = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    observed = float(np.mean(x == y))
    categories = set(x.tolist()) | set(y.tolist())
    expected = sum(float(np.mean(x == c)) * float(np.mean(y == c)) for c in categories)
    if expected >= 1.0:
        return 1.0 if observed >= 1.0 else 0.0
    return (observed - expected) / (1.0 - expected)


def decisions_kappa(first: Sequence[Sequence[str]], second: Sequence[Sequence[str]],
                    labels: Sequence[str], task_type: str) -> float:
    """Kappa of two versions' decided label lists on the same examples: single-label as one
    categorical decision per example ("" for none); otherwise one yes/no per (example, label)."""
    if task_type == "singlelabel":
        pick = [(d[0] if d else "") for d in first], [(d[0] if d else "") for d in second]
        return cohen_kappa(*pick)
    flat_a = [name in d for d in first for name in labels]
    flat_b = [name in d for d in second for name in labels]
    return cohen_kappa(flat_a, flat_b)


def stopping_hint(kappas: Sequence[float | None], threshold: float = KAPPA_THRESHOLD,
                  window: int = STABLE_VERSIONS) -> bool:
    """True when the last `window` consecutive-version kappas are all above `threshold`."""
    tail = list(kappas)[-window:]
    return len(tail) == window and all(k is not None and k > threshold for k in tail)
