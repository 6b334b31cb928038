"""Inter-annotator agreement and annotator pace: pure functions over plain values (no ORM).

- Cohen's kappa (Cohen 1960) for two annotators over the items both labelled, nominal:
  kappa = (p_o - p_e) / (1 - p_e), p_e from each annotator's own marginals.
- Krippendorff's alpha, nominal, over any number of annotators with missing values (the
  `krippendorff` package; Krippendorff 2011, "Computing Krippendorff's alpha-reliability").
- Spans: entity-level F1 between two annotators (exact start, end and label), the figure
  CoNLL-style NER evaluation uses; symmetric, so which annotator is "gold" does not matter.
- Decisions per hour from decision timestamps, split into sessions at gaps.
- Share of model suggestions accepted unchanged.

Undefined figures (one category only, no shared items) are None, never a made-up 0 or 1.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from typing import Any

import numpy as np

# A pause longer than this ends a work session (its gap is not counted as working time).
SESSION_GAP_S = 10 * 60


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two equally long sequences of nominal codes (same item at each index).

    None when it is undefined: no items, or both annotators used one and the same code
    throughout (p_e = 1)."""
    if len(a) != len(b):
        raise ValueError(f"kappa needs paired codes, got {len(a)} and {len(b)}.")
    n = len(a)
    if n == 0:
        return None
    p_o = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    p_e = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if math.isclose(p_e, 1.0):
        return None
    return (p_o - p_e) / (1 - p_e)


def krippendorff_alpha(units: Sequence[Mapping[str, Hashable]]) -> float | None:
    """Nominal Krippendorff's alpha; `units` holds, per item, annotator -> code.

    Items coded by fewer than two annotators carry no pairing information and are ignored by
    the coefficient. None when undefined (fewer than two codes in use, or no pairable item)."""
    coders = sorted({c for unit in units for c in unit})
    pairable = [u for u in units if len(u) >= 2]
    codes = sorted({repr(v) for u in pairable for v in u.values()})
    if len(coders) < 2 or not pairable or len(codes) < 2:
        return None
    index = {code: float(i) for i, code in enumerate(codes)}
    data = np.full((len(coders), len(pairable)), np.nan)
    row = {c: i for i, c in enumerate(coders)}
    for j, unit in enumerate(pairable):
        for coder, value in unit.items():
            data[row[coder], j] = index[repr(value)]
    import krippendorff  # noqa: PLC0415 (small, but only the agreement page needs it)

    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


@dataclass(frozen=True)
class PairFigure:
    a: str
    b: str
    value: float | None  # kappa (classification) or F1 (spans)
    n: int  # items both annotated


def pairwise_kappa(units: Sequence[Mapping[str, Hashable]]) -> list[PairFigure]:
    """Cohen's kappa for every pair of annotators, on the items both coded."""
    coders = sorted({c for unit in units for c in unit})
    out = []
    for a, b in combinations(coders, 2):
        both = [u for u in units if a in u and b in u]
        out.append(PairFigure(a, b, cohen_kappa([u[a] for u in both], [u[b] for u in both]), len(both)))
    return out


def span_f1(a: Iterable[Sequence[Any]], b: Iterable[Sequence[Any]]) -> float | None:
    """Entity-level F1 between two annotators' spans, each a (start, end, label) tuple (or a
    per-item set of them already tagged with the item). None when neither marked anything."""
    sa, sb = set(map(tuple, a)), set(map(tuple, b))
    if not sa and not sb:
        return None
    return 2 * len(sa & sb) / (len(sa) + len(sb))


def pairwise_span_f1(
    items: Sequence[Mapping[str, set[tuple[int, int, str]]]], label: str | None = None
) -> list[PairFigure]:
    """Entity-level F1 for every pair of annotators, micro-averaged over the items both
    annotated; `label` restricts it to spans of that label. Two annotators who both marked
    nothing on every shared item agree, but F1 is undefined there (None)."""
    coders = sorted({c for item in items for c in item})
    out = []
    for a, b in combinations(coders, 2):
        sa: set[tuple[Any, ...]] = set()
        sb: set[tuple[Any, ...]] = set()
        n = 0
        for i, item in enumerate(items):
            if a in item and b in item:
                n += 1
                sa |= {(i, *s) for s in item[a] if label is None or s[2] == label}
                sb |= {(i, *s) for s in item[b] if label is None or s[2] == label}
        out.append(PairFigure(a, b, span_f1(sa, sb), n))
    return out


def span_units(
    items: Sequence[Mapping[str, set[tuple[int, int, str]]]], label: str | None = None
) -> list[dict[str, int]]:
    """Spans as alpha units: every span anyone marked on an item is a unit, and every
    annotator of that item codes it 1 (marked it too) or 0 (did not)."""
    units = []
    for item in items:
        candidates = {s for spans in item.values() for s in spans if label is None or s[2] == label}
        for span in sorted(candidates):
            units.append({coder: int(span in spans) for coder, spans in item.items()})
    return units


def weighted_mean(figures: Iterable[PairFigure]) -> float | None:
    """Mean of the defined figures weighted by their n (None when none is defined)."""
    pairs = [(f.value, f.n) for f in figures if f.value is not None and f.n]
    total = sum(n for _, n in pairs)
    return sum(v * n for v, n in pairs) / total if total else None


@dataclass(frozen=True)
class Pace:
    decisions: int
    sessions: int
    active_seconds: float
    per_hour: float | None


def decisions_per_hour(times: Iterable[datetime], gap_s: float = SESSION_GAP_S) -> Pace:
    """Decisions per hour of active work. Sorted timestamps are split into sessions wherever
    two consecutive decisions are more than `gap_s` apart; within a session of k decisions
    spanning d seconds there are k-1 timed decisions, so the rate is sum(k-1) / sum(d) per hour.
    None when no two decisions fall in one session (nothing was timed)."""
    ts = sorted(times)
    if not ts:
        return Pace(0, 0, 0.0, None)
    sessions, active, timed = 1, 0.0, 0
    for prev, cur in zip(ts, ts[1:]):
        gap = (cur - prev).total_seconds()
        if gap > gap_s:
            sessions += 1
        else:
            active += gap
            timed += 1
    per_hour = timed * 3600 / active if active > 0 else None
    return Pace(len(ts), sessions, active, per_hour)


def accepted_unchanged(pairs: Iterable[tuple[Any, Any]]) -> tuple[int, int, float | None]:
    """(suggestions shown, accepted unchanged, share) from (what was saved, what the model
    suggested or None when nothing was suggested) pairs; values compare as sets."""
    shown = accepted = 0
    for saved, suggested in pairs:
        if suggested is None:
            continue
        shown += 1
        accepted += _as_set(saved) == _as_set(suggested)
    return shown, accepted, (accepted / shown if shown else None)


def _as_set(value: Any) -> frozenset[Any]:
    return frozenset(
        tuple(sorted(v.items())) if isinstance(v, dict) else v for v in (value or [])
    )
