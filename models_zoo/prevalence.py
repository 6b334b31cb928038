"""The prevalence index over time (seed 004, section 4.3, the Hate Speech Index): pure functions.

Seed 004 defines the daily index as h_d / (h_d + nh_d), the share of day d's tweets that the
model labels hateful, smooths it with a moving average, reads peaks against events and compares
models by the Pearson correlation of their series (.81-.98 in the seed). Beyond the seed, the
corrected index adjusts each day's share for the model's errors with adjusted classify-and-count
(Forman 2008, "Quantifying counts and costs via classification"):

    p_adj = (p_obs - FPR) / (TPR - FPR),  clipped to [0, 1],

with TPR and FPR estimated on a labelled sample of the same corpus; a bootstrap over that sample
gives the 95% interval. No ORM here: arrays in, arrays out, a seeded Generator for the bootstrap.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PEAK_METHODS = ("ratio", "z")


def daily_shares(n: Sequence[int], positive: Sequence[int]) -> np.ndarray:
    """positive_d / n_d per day; NaN on days without examples."""
    n_arr = np.asarray(n, dtype=float)
    pos = np.asarray(positive, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n_arr > 0, pos / n_arr, np.nan)


def moving_average(shares: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean of the daily shares over the last `window` calendar days (days without
    examples are left out of the mean; NaN while the window holds none)."""
    if window < 1:
        raise ValueError("window must be at least 1")
    values = np.asarray(shares, dtype=float)
    ok = np.isfinite(values)
    sums = np.concatenate([[0.0], np.cumsum(np.where(ok, values, 0.0))])
    counts = np.concatenate([[0], np.cumsum(ok)])
    idx = np.arange(len(values))
    lo = np.maximum(idx + 1 - window, 0)
    total = sums[idx + 1] - sums[lo]
    count = counts[idx + 1] - counts[lo]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def find_peaks(shares: np.ndarray, method: str = "ratio", k: float = 1.5) -> np.ndarray:
    """Indices of peak days: share > k * mean share ("ratio"), or z-score > k ("z")."""
    values = np.asarray(shares, dtype=float)
    ok = np.isfinite(values)
    if not ok.any():
        return np.array([], dtype=int)
    mean = float(values[ok].mean())
    if method == "ratio":
        hit = ok & (values > k * mean)
    elif method == "z":
        std = float(values[ok].std())
        if std == 0:
            return np.array([], dtype=int)
        hit = ok & ((values - mean) / std > k)
    else:
        raise ValueError(f"peak method must be one of {', '.join(PEAK_METHODS)}")
    return np.flatnonzero(hit)


def pearson(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Pearson r over the positions where both series are finite (None below 3 or when one
    series is constant)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return None
    x, y = x[ok] - x[ok].mean(), y[ok] - y[ok].mean()
    den = math.sqrt(float((x * x).sum()) * float((y * y).sum()))
    return None if den == 0 else float((x * y).sum()) / den


def error_rates(
    truth: np.ndarray, predicted: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """(TPR, FPR) of the model on a labelled sample (weighted by design weights if given);
    NaN when the sample has no positives (TPR) or no negatives (FPR)."""
    t = np.asarray(truth, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    w = np.ones(len(t)) if weights is None else np.asarray(weights, dtype=float)
    pos, neg = w[t].sum(), w[~t].sum()
    tpr = float(w[t & p].sum() / pos) if pos > 0 else math.nan
    fpr = float(w[~t & p].sum() / neg) if neg > 0 else math.nan
    return tpr, fpr


def adjusted_share(observed: np.ndarray, tpr: float, fpr: float) -> np.ndarray:
    """Adjusted classify-and-count (Forman 2008): (p - FPR) / (TPR - FPR), clipped to [0, 1];
    NaN when TPR <= FPR (the model does not separate the classes on the sample)."""
    obs = np.asarray(observed, dtype=float)
    if not (math.isfinite(tpr) and math.isfinite(fpr)) or tpr - fpr <= 0:
        return np.full(obs.shape, np.nan)
    return np.clip((obs - fpr) / (tpr - fpr), 0.0, 1.0)


def bootstrap_adjusted(
    observed: np.ndarray,
    truth: np.ndarray,
    predicted: np.ndarray,
    rng: np.random.Generator,
    weights: np.ndarray | None = None,
    rounds: int = 500,
) -> tuple[np.ndarray, np.ndarray]:
    """2.5% and 97.5% percentiles of the adjusted daily shares when the labelled sample is
    resampled with replacement `rounds` times (the daily shares are a census of the corpus, so
    the uncertainty is the error-rate estimate's). Rounds where TPR <= FPR are left out."""
    t = np.asarray(truth, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    w = np.ones(len(t)) if weights is None else np.asarray(weights, dtype=float)
    obs = np.asarray(observed, dtype=float)
    draws = rng.integers(0, len(t), size=(rounds, len(t)))
    wt, wp = w[draws], (w * t)[draws]
    tp = (w * (t & p))[draws].sum(axis=1)
    fp = (w * (~t & p))[draws].sum(axis=1)
    pos = wp.sum(axis=1)
    neg = wt.sum(axis=1) - pos
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = tp / pos
        fpr = fp / neg
    keep = np.isfinite(tpr) & np.isfinite(fpr) & (tpr > fpr)
    if not keep.any():
        nan = np.full(obs.shape, np.nan)
        return nan, nan
    tpr, fpr = tpr[keep][:, None], fpr[keep][:, None]
    adjusted = np.clip((obs[None, :] - fpr) / (tpr - fpr), 0.0, 1.0)
    if not obs.size:
        return obs, obs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # days without examples: all-NaN columns
        lo = np.nanpercentile(adjusted, 2.5, axis=0)
        hi = np.nanpercentile(adjusted, 97.5, axis=0)
    return lo, hi


@dataclass(frozen=True)
class IndexDelta:
    """How newly stored predictions change a version's daily counts: `n[day]` predictions added
    per UTC day, `positive[(label, day)]` of them labelled `label`. A day whose n changed moves
    the share of every label that day, not only the labels counted in `positive`."""

    n: dict[dt.date, int] = field(default_factory=dict)
    positive: dict[tuple[str, dt.date], int] = field(default_factory=dict)

    @property
    def days(self) -> list[dt.date]:
        """The days whose counts changed, in order."""
        return sorted(set(self.n) | {day for _, day in self.positive})

    def as_event(self) -> dict[str, Any]:
        """JSON-ready: {"days": [{"date", "n", "positive": {label: count}}]} in day order."""
        per_day: dict[dt.date, dict[str, int]] = {}
        for (label, day), count in sorted(self.positive.items()):
            per_day.setdefault(day, {})[label] = count
        return {
            "days": [
                {"date": d.isoformat(), "n": self.n.get(d, 0), "positive": per_day.get(d, {})}
                for d in self.days
            ]
        }


def index_delta(rows: Iterable[tuple[dt.datetime | None, Sequence[str]]]) -> IndexDelta:
    """The IndexDelta of new predictions given as (example posted_at, predicted labels) pairs,
    counted as the stored aggregate counts them: by the UTC day of posted_at, undated examples
    left out, each label once per prediction."""
    n: Counter[dt.date] = Counter()
    positive: Counter[tuple[str, dt.date]] = Counter()
    for posted_at, labels in rows:
        if posted_at is None:
            continue
        day = posted_at.astimezone(dt.UTC).date()
        n[day] += 1
        for label in {lab for lab in labels or () if isinstance(lab, str)}:
            positive[(label, day)] += 1
    return IndexDelta(dict(n), dict(positive))
