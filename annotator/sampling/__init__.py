"""Stratified samples (seed 004, sections 2.1 and 4.3): pure functions over arrays, no ORM.

`design` builds strata from a metadata field, allocates a sample size over them and draws it with
a seeded generator; `estimate` turns the annotated members into weighted estimates.
"""

from __future__ import annotations

from annotator.sampling.design import (
    DesignError,
    Stratum,
    allocate,
    categorical_strata,
    draw,
    numeric_strata,
    plan,
    size_for_target_cv,
)
from annotator.sampling.estimate import StratumCounts, stratified_estimate

__all__ = [
    "DesignError",
    "Stratum",
    "StratumCounts",
    "allocate",
    "categorical_strata",
    "draw",
    "numeric_strata",
    "plan",
    "size_for_target_cv",
    "stratified_estimate",
]
