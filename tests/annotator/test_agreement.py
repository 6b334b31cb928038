"""annotator.agreement: kappa, alpha, span F1 and pace on hand-computed cases and scikit-learn."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from annotator import agreement as A


def test_kappa_matches_a_hand_computed_two_by_two_table():
    # 10 items: both yes 4, a yes/b no 1, a no/b yes 2, both no 3.
    a = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    b = [1, 1, 1, 1, 0, 1, 1, 0, 0, 0]
    # p_o = 7/10; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.2/0.5 = 0.4.
    assert A.cohen_kappa(a, b) == pytest.approx(0.4)


def test_kappa_is_one_for_identical_and_negative_for_opposed_codes():
    assert A.cohen_kappa(["x", "y", "x"], ["x", "y", "x"]) == pytest.approx(1.0)
    # p_o = 0, p_e = 0.5 -> -1.
    assert A.cohen_kappa([0, 1, 0, 1], [1, 0, 1, 0]) == pytest.approx(-1.0)


def test_kappa_is_undefined_when_both_use_one_code_or_share_nothing():
    assert A.cohen_kappa([1, 1, 1], [1, 1, 1]) is None
    assert A.cohen_kappa([], []) is None
    with pytest.raises(ValueError, match="paired"):
        A.cohen_kappa([1], [1, 0])


@pytest.mark.parametrize("seed", range(8))
def test_kappa_agrees_with_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    a = rng.integers(0, 3, n)
    # b copies a about 60% of the time so kappa is far from 0.
    b = np.where(rng.random(n) < 0.6, a, rng.integers(0, 3, n))
    ours = A.cohen_kappa(list(a), list(b))
    assert ours == pytest.approx(cohen_kappa_score(a, b))


def test_pairwise_kappa_uses_only_shared_items_and_agrees_with_scikit_learn():
    units = [
        {"ann": "HS", "bob": "HS", "cy": "NO"},
        {"ann": "NO", "bob": "HS"},
        {"ann": "NO", "bob": "NO", "cy": "NO"},
        {"bob": "HS", "cy": "HS"},
        {"ann": "HS", "cy": "HS"},
    ]
    figures = {(f.a, f.b): f for f in A.pairwise_kappa(units)}
    assert sorted(figures) == [("ann", "bob"), ("ann", "cy"), ("bob", "cy")]
    ab = figures[("ann", "bob")]
    assert ab.n == 3
    assert ab.value == pytest.approx(cohen_kappa_score(["HS", "NO", "NO"], ["HS", "HS", "NO"]))
    # ann vs cy: (HS,NO), (NO,NO), (HS,HS): p_o = 2/3; p_e = (2/3*1/3 + 1/3*2/3) = 4/9;
    # kappa = (2/3 - 4/9) / (5/9) = 0.4.
    assert figures[("ann", "cy")].value == pytest.approx(0.4)
    assert figures[("ann", "cy")].n == 3


def test_alpha_matches_krippendorffs_worked_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: four
    # observers, 12 units, nominal, missing values; the paper's result is alpha = 0.743.
    table = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
    units = [
        {c: table[c][j] for c in table if table[c][j] is not None} for j in range(12)
    ]
    assert A.krippendorff_alpha(units) == pytest.approx(0.743, abs=5e-4)


def test_alpha_by_hand_on_two_coders_and_binary_codes():
    # Two coders, 4 units: (1,1), (0,0), (1,0), (0,0). Coincidences: o11 = 2, o00 = 4,
    # o10 = o01 = 1; n = 8, n1 = 3, n0 = 5. D_o = 2/8; D_e = 2*3*5 / (8*7) = 30/56.
    # alpha = 1 - D_o / D_e = 1 - (2/8) / (30/56) = 1 - 56/120 = 0.5333...
    units = [{"a": 1, "b": 1}, {"a": 0, "b": 0}, {"a": 1, "b": 0}, {"a": 0, "b": 0}]
    assert A.krippendorff_alpha(units) == pytest.approx(1 - 56 / 120)


def test_alpha_is_undefined_with_one_code_or_one_coder():
    assert A.krippendorff_alpha([{"a": 1, "b": 1}, {"a": 1, "b": 1}]) is None
    assert A.krippendorff_alpha([{"a": 1}, {"a": 0}]) is None
    assert A.krippendorff_alpha([]) is None


def test_span_f1_is_entity_level_and_exact():
    a = {(0, 4, "PER"), (10, 15, "LOC"), (20, 25, "ORG")}
    b = {(0, 4, "PER"), (10, 14, "LOC")}  # boundary off by one: no credit
    # tp = 1, |a| = 3, |b| = 2 -> F1 = 2/5.
    assert A.span_f1(a, b) == pytest.approx(0.4)
    assert A.span_f1(set(), set()) is None
    assert A.span_f1(a, set()) == 0.0


def test_pairwise_span_f1_micro_averages_over_shared_items_and_filters_by_label():
    items = [
        {"ann": {(0, 4, "PER")}, "bob": {(0, 4, "PER")}},
        {"ann": {(5, 9, "LOC")}, "bob": {(5, 9, "PER")}},
        {"ann": {(1, 2, "PER")}},  # bob did not annotate: left out
    ]
    (overall,) = A.pairwise_span_f1(items)
    # tp = 1 of 2 + 2 spans -> 0.5; n = 2 shared items.
    assert (overall.a, overall.b, overall.n) == ("ann", "bob", 2)
    assert overall.value == pytest.approx(0.5)
    (per,) = A.pairwise_span_f1(items, "PER")
    # PER: ann {(0,0,4)}, bob {(0,0,4), (1,5,9)} -> 2*1/3.
    assert per.value == pytest.approx(2 / 3)
    (loc,) = A.pairwise_span_f1(items, "LOC")
    assert loc.value == pytest.approx(0.0)


def test_span_units_code_each_marked_span_per_annotator():
    items = [{"ann": {(0, 4, "PER")}, "bob": {(0, 4, "PER"), (5, 9, "LOC")}}]
    assert A.span_units(items) == [{"ann": 1, "bob": 1}, {"ann": 0, "bob": 1}]


def test_decisions_per_hour_splits_sessions_at_gaps():
    t0 = datetime(2026, 1, 1, 9, 0, 0)
    # Session 1: 4 decisions 30 s apart (90 s, 3 timed); a 2-hour pause; session 2: 3 decisions
    # 60 s apart (120 s, 2 timed). Rate = 5 timed / 210 s = 85.71 per hour.
    times = [t0 + timedelta(seconds=30 * i) for i in range(4)]
    t1 = t0 + timedelta(hours=2)
    times += [t1 + timedelta(seconds=60 * i) for i in range(3)]
    pace = A.decisions_per_hour(reversed(times))
    assert (pace.decisions, pace.sessions) == (7, 2)
    assert pace.active_seconds == 210
    assert pace.per_hour == pytest.approx(5 * 3600 / 210)


def test_decisions_per_hour_is_undefined_without_two_decisions_in_a_session():
    t0 = datetime(2026, 1, 1)
    assert A.decisions_per_hour([]).per_hour is None
    assert A.decisions_per_hour([t0, t0 + timedelta(hours=3)]).per_hour is None


def test_accepted_unchanged_counts_only_shown_suggestions_and_ignores_order():
    pairs = [
        (["HS", "AG"], ["AG", "HS"]),  # same set: accepted unchanged
        (["HS"], ["HS", "AG"]),  # edited
        (["TR"], None),  # nothing suggested: not counted
        ([{"start": 0, "end": 2, "label": "P"}], [{"label": "P", "start": 0, "end": 2}]),
    ]
    assert A.accepted_unchanged(pairs) == (3, 2, pytest.approx(2 / 3))
    assert A.accepted_unchanged([]) == (0, 0, None)


def test_weighted_mean_skips_undefined_figures():
    figures = [A.PairFigure("a", "b", 1.0, 3), A.PairFigure("a", "c", 0.0, 1),
               A.PairFigure("a", "d", None, 5)]
    assert A.weighted_mean(figures) == pytest.approx(0.75)
    assert A.weighted_mean([]) is None
