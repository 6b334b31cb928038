"""Strata, allocation, sample size and the seeded draw (seed 004, section 2.1: stratify tweets by
retweet count into classes, the top class take-all, sized for a 5% coefficient of variation).

Pure functions over numpy arrays and ids; no ORM. A numeric field is cut into classes at sorted
boundaries (a class holds values in [b_(h-1), b_h)) or at quantiles; values at or above
`take_all_above` form a take-all stratum (every member sampled, so it adds no variance). A
categorical field gets one stratum per listed class and one "other" stratum for the rest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

ALLOCATIONS = ("proportional", "neyman")
OTHER = "other"


class DesignError(ValueError):
    """A design that cannot be drawn; `field` names the offending request field."""

    def __init__(self, message: str, field: str = "design") -> None:
        self.message = message
        self.field = field
        super().__init__(message)


@dataclass
class Stratum:
    index: int
    name: str
    lower: float | str | None = None
    upper: float | None = None
    take_all: bool = False
    population: int = 0
    size: int = 0
    expected_p: float = 0.0
    expected_cv: float | None = None
    members: list[int] = field(default_factory=list, repr=False)

    @property
    def weight(self) -> float:
        """Design weight N_h / n_h: how many population examples one member stands for."""
        return self.population / self.size if self.size else 0.0

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "lower": self.lower,
            "upper": self.upper,
            "population": self.population,
            "size": self.size,
            "weight": round(self.weight, 6),
            "take_all": self.take_all,
            "expected_cv": None if self.expected_cv is None else round(self.expected_cv, 6),
        }


def _fmt(value: float) -> str:
    return f"{value:g}"


def numeric_strata(
    values: np.ndarray,
    boundaries: Sequence[float] | None = None,
    quantiles: int | None = None,
    take_all_above: float | None = None,
) -> tuple[np.ndarray, list[Stratum]]:
    """Stratum index per value and the strata (without sizes).

    `boundaries` b_1 < ... < b_k give k+1 classes (-inf, b_1), [b_1, b_2), ..., [b_k, +inf);
    `quantiles` q gives q classes at the q-quantiles of the values below `take_all_above`
    (repeated cut points, common with skewed counts, merge). Values >= `take_all_above` form the
    last, take-all stratum.
    """
    values = np.asarray(values, dtype=float)
    below = values if take_all_above is None else values[values < take_all_above]
    if boundaries is not None and quantiles is not None:
        raise DesignError("give either boundaries or quantiles, not both", "boundaries")
    if quantiles is not None:
        if quantiles < 1:
            raise DesignError("quantiles must be at least 1", "quantiles")
        if below.size == 0:
            cuts: list[float] = []
        else:
            qs = np.quantile(below, [i / quantiles for i in range(1, quantiles)], method="higher")
            cuts = sorted({float(q) for q in qs if q > below.min()})
    else:
        cuts = [float(b) for b in (boundaries or [])]
        if any(b >= a for a, b in zip(cuts[1:], cuts, strict=False)):
            raise DesignError("boundaries must be strictly increasing", "boundaries")
        if take_all_above is not None and cuts and cuts[-1] >= take_all_above:
            raise DesignError(
                f"boundaries must lie below take_all_above ({_fmt(take_all_above)})", "boundaries"
            )
    assignment = np.searchsorted(np.asarray(cuts, dtype=float), values, side="right")
    edges: list[float | None] = [None, *cuts, take_all_above]
    strata = []
    for h in range(len(cuts) + 1):
        lo, hi = edges[h], edges[h + 1]
        if lo is None and hi is None:
            name = "all"
        elif lo is None:
            name = f"< {_fmt(hi)}"
        elif hi is None:
            name = f">= {_fmt(lo)}"
        else:
            name = f"[{_fmt(lo)}, {_fmt(hi)})"
        strata.append(Stratum(index=h, name=name, lower=lo, upper=hi))
    if take_all_above is not None:
        top = len(strata)
        assignment = np.where(values >= take_all_above, top, assignment)
        strata.append(
            Stratum(
                index=top,
                name=f">= {_fmt(take_all_above)} (take-all)",
                lower=take_all_above,
                upper=None,
                take_all=True,
            )
        )
    return assignment, strata


def categorical_strata(
    values: Sequence[str], classes: Sequence[str]
) -> tuple[np.ndarray, list[Stratum]]:
    """One stratum per class (in the order given), then "other" for every remaining value
    (left out when nothing falls in it)."""
    names = [str(c) for c in classes]
    if len(set(names)) != len(names):
        raise DesignError("classes must not repeat", "classes")
    position = {name: h for h, name in enumerate(names)}
    assignment = np.array([position.get(str(v), len(names)) for v in values], dtype=int)
    strata = [Stratum(index=h, name=name, lower=name) for h, name in enumerate(names)]
    if (assignment == len(names)).any():
        strata.append(Stratum(index=len(names), name=OTHER, lower=None))
    return assignment, strata


def _unit_variance(population: np.ndarray, p: np.ndarray) -> np.ndarray:
    """S_h^2 of a 0/1 variable with share p_h in a stratum of N_h units: N_h/(N_h-1) p_h (1-p_h)."""
    n = population.astype(float)
    return np.where(n > 1, n / np.maximum(n - 1, 1) * p * (1 - p), 0.0)


def _shares(population: np.ndarray, s2: np.ndarray, method: str) -> np.ndarray:
    if method == "neyman":
        raw = population * np.sqrt(s2)
        if raw.sum() > 0:
            return raw / raw.sum()
    return population / population.sum()


def allocate(
    population: Sequence[int], take_all: Sequence[bool], n: int, method: str, s2: Sequence[float]
) -> np.ndarray:
    """n_h per stratum for a total size n: take-all strata get N_h, the others share the rest in
    proportion to N_h (proportional) or N_h S_h (Neyman, Cochran ch. 5.5), at least 2 each (so
    the variance can be estimated), never more than N_h; rounded by largest remainder."""
    if method not in ALLOCATIONS:
        raise DesignError(f"allocation must be one of {', '.join(ALLOCATIONS)}", "allocation")
    pop = np.asarray(population, dtype=int)
    fixed = np.asarray(take_all, dtype=bool).copy()
    sizes = np.where(fixed, pop, 0)
    free = ~fixed
    rest = n - int(sizes.sum())
    if rest < 2 * int(free.sum()):
        raise DesignError(
            f"size {n} is too small: take-all strata hold {int(sizes.sum())} examples and each "
            f"of the other {int(free.sum())} strata needs at least 2",
            "size",
        )
    rest = min(rest, int(pop[free].sum()))
    s2 = np.asarray(s2, dtype=float)
    # Fix strata that the shares would push above N_h or below 2, then share out the rest.
    while True:
        shares = np.zeros(len(pop))
        shares[free] = _shares(pop[free], s2[free], method)
        raw = shares * rest
        over = free & (raw > pop)
        under = free & (raw < 2)
        if not over.any() and not under.any():
            break
        sizes = np.where(over, pop, np.where(under, 2, sizes))
        rest -= int(sizes[over].sum() + sizes[under].sum())
        free &= ~(over | under)
        if not free.any():
            return sizes
    floors = np.floor(raw).astype(int)
    left = rest - int(floors[free].sum())
    order = np.argsort(-(raw - floors) * free, kind="stable")
    floors[order[:left]] += 1
    return np.where(free, floors, sizes)


def expected_variance(
    population: np.ndarray, sizes: np.ndarray, p: np.ndarray
) -> tuple[float, np.ndarray]:
    """Anticipated V(p_st) = sum W_h^2 (1 - f_h) S_h^2 / n_h and each stratum's own CV."""
    total = population.sum()
    s2 = _unit_variance(population, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(sizes > 0, (1 - sizes / population) * s2 / np.maximum(sizes, 1), 0.0)
        cv = np.where(p > 0, np.sqrt(np.maximum(per, 0)) / p, np.nan)
    var = float(((population / total) ** 2 * per).sum())
    return var, cv


def size_for_target_cv(
    population: Sequence[int],
    take_all: Sequence[bool],
    p: Sequence[float],
    target_cv: float,
    method: str,
) -> int:
    """Total sample size whose estimate of the overall proportion has coefficient of variation
    `target_cv`, given anticipated proportions P_h.

    Cochran, Sampling Techniques (3rd ed., 1977), ch. 5, eq. (5.25): with n_h = w_h n,

        n = (sum_h W_h^2 S_h^2 / w_h) / (V + (1/N) sum_h W_h S_h^2),

    W_h = N_h / N, S_h^2 = N_h/(N_h - 1) P_h (1 - P_h), and V = (cv * P)^2 the wanted variance
    of p_st, P = sum_h W_h P_h. Proportional allocation (w_h = W_h) gives (5.27)
    n = n0 / (1 + n0 / N) with n0 = sum W_h S_h^2 / V; Neyman (w_h ∝ N_h S_h) gives (5.26)
    n = (sum W_h S_h)^2 / (V + (1/N) sum W_h S_h^2). Take-all strata add no variance: the sums
    run over the sampled strata only, and their N_h are added to n.
    """
    if not target_cv or target_cv <= 0:
        raise DesignError("target_cv must be above 0", "target_cv")
    pop = np.asarray(population, dtype=float)
    fixed = np.asarray(take_all, dtype=bool)
    p = np.asarray(p, dtype=float)
    total = pop.sum()
    big_p = float((pop / total * p).sum())
    if not 0 < big_p < 1:
        raise DesignError("expected_p must lie strictly between 0 and 1", "expected_p")
    v = (target_cv * big_p) ** 2
    free = ~fixed
    weights = pop / total
    s2 = _unit_variance(pop.astype(int), p)
    w = _shares(pop[free], s2[free], method)
    num = float((weights[free] ** 2 * s2[free] / w).sum())
    den = v + float((weights[free] * s2[free]).sum()) / total
    n_free = math.ceil(num / den - 1e-9)
    return int(pop[fixed].sum()) + n_free


@dataclass
class Plan:
    strata: list[Stratum]
    assignment: np.ndarray
    size: int
    expected_cv: float | None


def _expected_ps(strata: list[Stratum], expected_p: float | Mapping[str, float]) -> np.ndarray:
    if isinstance(expected_p, Mapping):
        unknown = sorted(set(expected_p) - {s.name for s in strata})
        if unknown:
            raise DesignError(
                f"expected_p names unknown strata: {', '.join(unknown)}", "expected_p"
            )
        default = float(expected_p.get("*", 0.34))
        out = [float(expected_p.get(s.name, default)) for s in strata]
    else:
        out = [float(expected_p)] * len(strata)
    if any(not 0 < v < 1 for v in out):
        raise DesignError("expected_p must lie strictly between 0 and 1", "expected_p")
    return np.asarray(out)


def plan(
    assignment: np.ndarray,
    strata: list[Stratum],
    *,
    allocation: str = "proportional",
    size: int | None = None,
    target_cv: float | None = 0.05,
    expected_p: float | Mapping[str, float] = 0.34,
    strata_field: str = "boundaries",
) -> Plan:
    """Populations, sizes and expected CVs for strata from `numeric_strata`/`categorical_strata`.

    The size is `size` when given, otherwise the smallest size whose anticipated CV (at
    `expected_p`, the seed's weighted estimate 0.34 by default) is at most `target_cv`.
    `strata_field` is the request field blamed for a stratum with fewer than 2 examples.
    """
    counts = (
        np.bincount(assignment, minlength=len(strata))
        if len(assignment)
        else np.zeros(len(strata), int)
    )
    for s in strata:
        s.population = int(counts[s.index])
    small = [s for s in strata if s.population < 2]
    if small:
        raise DesignError(
            "strata with fewer than 2 examples cannot be sampled: "
            + ", ".join(f"{s.name} ({s.population})" for s in small),
            strata_field,
        )
    pop = counts.astype(int)
    take_all = np.array([s.take_all for s in strata])
    ps = _expected_ps(strata, expected_p)
    s2 = _unit_variance(pop, ps)
    total = int(pop.sum())
    big_p = float((pop / total * ps).sum())
    if size is not None:
        if size < 1:
            raise DesignError("size must be at least 1", "size")
        n = min(int(size), total)
        sizes = allocate(pop, take_all, n, allocation, s2)
    else:
        n = size_for_target_cv(pop, take_all, ps, target_cv or 0, allocation)
        free_pop = int(pop[~take_all].sum())
        if n - int(pop[take_all].sum()) >= free_pop:
            raise DesignError(
                f"no sample reaches a CV of {target_cv:g}: it would need {n} of the {total} "
                "examples, i.e. every one of them; raise target_cv",
                "target_cv",
            )
        sizes = allocate(pop, take_all, n, allocation, s2)
        # Rounding and the N_h / 2 caps move the allocation off the formula's: grow until met.
        while math.sqrt(expected_variance(pop, sizes, ps)[0]) / big_p > target_cv and n < total:
            n += max(1, n // 200)
            sizes = allocate(pop, take_all, min(n, total), allocation, s2)
    var, cvs = expected_variance(pop, sizes, ps)
    for s in strata:
        s.size = int(sizes[s.index])
        s.expected_p = float(ps[s.index])
        s.expected_cv = 0.0 if s.size >= s.population else float(cvs[s.index])
    return Plan(strata, assignment, int(sizes.sum()), math.sqrt(var) / big_p)


def draw(ids: Sequence[int], planned: Plan, rng: np.random.Generator) -> list[tuple[int, int]]:
    """(example id, stratum index) for every sampled example: within each stratum a simple
    random sample without replacement of size n_h, from ids in ascending order (so the same
    seed and the same population give the same sample)."""
    ids = np.asarray(ids)
    order = np.argsort(ids, kind="stable")
    ids, assignment = ids[order], planned.assignment[order]
    out: list[tuple[int, int]] = []
    for s in planned.strata:
        pool = ids[assignment == s.index]
        chosen = pool if s.size >= len(pool) else rng.choice(pool, size=s.size, replace=False)
        out.extend((int(i), s.index) for i in np.sort(chosen))
    return out
