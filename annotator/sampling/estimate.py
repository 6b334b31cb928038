"""The stratified estimator of a proportion (Cochran, Sampling Techniques, ch. 5.3 and 5.7).

    p_st   = sum_h (N_h / N) p_h
    v(p_st) = sum_h (N_h / N)^2 (1 - n_h / N_h) p_h (1 - p_h) / (n_h - 1)

with n_h the annotated members of stratum h and p_h their positive share. A take-all stratum
(n_h = N_h) adds no variance. The design effect compares v(p_st) with the variance a simple
random sample of the same size would have, (1 - n/N) p (1 - p) / (n - 1) at the unweighted share.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Z95 = 1.959964


@dataclass(frozen=True)
class StratumCounts:
    population: int  # N_h
    annotated: int  # n_h: members with a gold label
    positives: int  # members whose gold labels hold the label
    members: int = 0  # all members (annotated or not)


def stratified_estimate(strata: Sequence[StratumCounts]) -> dict[str, Any]:
    """p, se, cv, ci95, unweighted share, design effect, annotated and missing counts.

    p is None while some stratum has no annotated member (its share is unknown); se is None
    while a sampled stratum has a single annotated member (its variance is unknown).
    """
    total = sum(s.population for s in strata)
    annotated = sum(s.annotated for s in strata)
    positives = sum(s.positives for s in strata)
    members = sum(s.members for s in strata)
    out: dict[str, Any] = {
        "p": None,
        "se": None,
        "cv": None,
        "ci95": None,
        "unweighted": positives / annotated if annotated else None,
        "design_effect": None,
        "annotated": annotated,
        "missing": max(0, members - annotated),
    }
    if not total or any(s.annotated == 0 for s in strata if s.population):
        return out
    p = sum(s.population / total * s.positives / s.annotated for s in strata if s.population)
    out["p"] = p
    var = 0.0
    for s in strata:
        if not s.population or s.annotated >= s.population:
            continue  # take-all (or fully annotated) stratum: no sampling variance
        if s.annotated < 2:
            return out
        ph = s.positives / s.annotated
        var += (
            (s.population / total) ** 2
            * (1 - s.annotated / s.population)
            * ph
            * (1 - ph)
            / (s.annotated - 1)
        )
    se = math.sqrt(var)
    out["se"] = se
    out["cv"] = se / p if p > 0 else None
    out["ci95"] = [max(0.0, p - Z95 * se), min(1.0, p + Z95 * se)]
    u = out["unweighted"]
    if annotated > 1 and annotated < total and u is not None:
        srs = (1 - annotated / total) * u * (1 - u) / (annotated - 1)
        out["design_effect"] = var / srs if srs > 0 else None
    return out
