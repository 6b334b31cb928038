"""Stratified design, size formula and estimator against hand-computed cases (seed 004)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotator.sampling import (
    DesignError,
    StratumCounts,
    allocate,
    categorical_strata,
    draw,
    numeric_strata,
    plan,
    size_for_target_cv,
    stratified_estimate,
)
from annotator.sampling.design import expected_variance


def test_numeric_strata_cut_at_boundaries_with_a_take_all_top():
    values = np.array([0, 0, 1, 2, 5, 7, 10, 100, 250])
    assignment, strata = numeric_strata(values, boundaries=[1, 5], take_all_above=100)
    assert [s.name for s in strata] == ["< 1", "[1, 5)", "[5, 100)", ">= 100 (take-all)"]
    assert assignment.tolist() == [0, 0, 1, 1, 2, 2, 2, 3, 3]
    assert [s.take_all for s in strata] == [False, False, False, True]
    assert (strata[2].lower, strata[2].upper) == (5, 100)


def test_quantile_classes_merge_repeated_cut_points():
    values = np.array([0] * 6 + [1, 2, 3, 4, 5, 6])
    assignment, strata = numeric_strata(values, quantiles=4)
    # "higher" quantiles at positions 11q of the sorted values: q=.25 -> index 3 (0, dropped:
    # no class below the minimum), q=.5 -> index 6 (1), q=.75 -> index 9 (4).
    assert [s.name for s in strata] == ["< 1", "[1, 4)", ">= 4"]
    assert np.bincount(assignment).tolist() == [6, 3, 3]


def test_boundaries_must_increase_and_stay_below_take_all():
    with pytest.raises(DesignError, match="strictly increasing") as err:
        numeric_strata(np.arange(5), boundaries=[3, 2])
    assert err.value.field == "boundaries"
    with pytest.raises(DesignError, match="below take_all_above"):
        numeric_strata(np.arange(5), boundaries=[1, 4], take_all_above=3)


def test_categorical_classes_and_an_other_stratum():
    assignment, strata = categorical_strata(["it", "en", "it", "fr", "de"], ["it", "en"])
    assert [s.name for s in strata] == ["it", "en", "other"]
    assert assignment.tolist() == [0, 1, 0, 2, 2]


def test_proportional_allocation_gives_take_all_strata_everything():
    sizes = allocate([600, 300, 100], [False, False, True], 190, "proportional", [0.25, 0.25, 0.25])
    assert sizes.tolist() == [60, 30, 100]


def test_neyman_allocation_follows_n_h_times_s_h():
    # S_a = sqrt(600/599 * .25) = .50042, S_b = sqrt(300/299 * .09) = .30050;
    # N_h S_h = 300.25 and 90.15 -> shares .7691 / .2309 of 90 = 69.2 / 20.8 -> 69 / 21.
    s2 = [600 / 599 * 0.25, 300 / 299 * 0.09, 0.0]
    sizes = allocate([600, 300, 100], [False, False, True], 190, "neyman", s2)
    assert sizes.tolist() == [69, 21, 100]


def test_allocation_caps_at_the_population_and_keeps_two_per_stratum():
    sizes = allocate([1000, 3, 2], [False, False, False], 100, "proportional", [0.25] * 3)
    assert sizes.tolist() == [96, 2, 2]
    with pytest.raises(DesignError, match="too small") as err:
        allocate([10, 10, 5], [False, False, True], 7, "proportional", [0.25] * 3)
    assert err.value.field == "size"


def test_size_for_target_cv_single_stratum_matches_cochran_5_27():
    # P = .5, cv = .1: V = .0025; S^2 = 1000/999 * .25 = .25025; n0 = 100.1;
    # n = n0 / (1 + n0 / N) = 100.1 / 1.1001 = 90.99 -> 91.
    assert size_for_target_cv([1000], [False], [0.5], 0.1, "proportional") == 91


def test_size_for_target_cv_adds_the_take_all_stratum_whole():
    # N = 1020, W_1 = 1000/1020: n' = W_1^2 S^2 / (V + W_1 S^2 / N)
    #   = .961169 * .25025 / (.0025 + .980392 * .25025 / 1020) = .240533 / .00274053 = 87.77 -> 88,
    # plus the 20 take-all examples.
    n = size_for_target_cv([1000, 20], [False, True], [0.5, 0.5], 0.1, "proportional")
    assert n == 108
    pop, p = np.array([1000, 20]), np.array([0.5, 0.5])
    cv_at = lambda n1: math.sqrt(expected_variance(pop, np.array([n1, 20]), p)[0]) / 0.5  # noqa: E731
    assert cv_at(88) <= 0.1 < cv_at(87)


def test_plan_sizes_by_target_cv_and_reports_weights():
    values = np.concatenate([np.zeros(800), np.full(150, 5.0), np.full(50, 500.0)])
    assignment, strata = numeric_strata(values, boundaries=[1], take_all_above=100)
    planned = plan(assignment, strata, target_cv=0.1, expected_p=0.34)
    by = {s.name: s for s in planned.strata}
    take_all = by[">= 100 (take-all)"]
    assert (take_all.population, take_all.size, take_all.weight, take_all.expected_cv) == (
        50,
        50,
        1.0,
        0.0,
    )
    assert planned.expected_cv <= 0.1
    assert by["< 1"].population == 800 and by["[1, 100)"].population == 150
    # Proportional over the sampled strata: n_h / N_h is the same up to rounding.
    assert abs(by["< 1"].size / 800 - by["[1, 100)"].size / 150) < 0.01
    assert by["< 1"].weight == pytest.approx(800 / by["< 1"].size)


def test_plan_refuses_a_stratum_with_fewer_than_two_examples():
    assignment, strata = numeric_strata(np.array([0, 0, 0, 9]), boundaries=[5])
    with pytest.raises(DesignError, match=r">= 5 \(1\)") as err:
        plan(assignment, strata, size=3)
    assert err.value.field == "boundaries"


def test_plan_refuses_a_target_cv_no_sample_reaches():
    assignment, strata = numeric_strata(np.arange(20.0), boundaries=[10])
    with pytest.raises(DesignError, match="no sample reaches") as err:
        plan(assignment, strata, target_cv=0.001)
    assert err.value.field == "target_cv"


def test_draw_is_seeded_and_takes_all_of_a_take_all_stratum():
    values = np.concatenate([np.zeros(50), np.full(30, 3.0), np.full(5, 200.0)])
    ids = np.arange(1000, 1085)
    assignment, strata = numeric_strata(values, boundaries=[1], take_all_above=100)
    planned = plan(assignment, strata, size=25)
    first = draw(ids, planned, np.random.default_rng(7))
    again = draw(ids, planned, np.random.default_rng(7))
    other = draw(ids, planned, np.random.default_rng(8))
    assert first == again and first != other
    per = np.bincount([h for _, h in first]).tolist()
    assert per == [s.size for s in planned.strata] and sum(per) == 25
    assert {i for i, h in first if h == 2} == set(range(1080, 1085))
    assert len({i for i, _ in first}) == 25


def test_stratified_estimate_hand_computed_with_a_take_all_stratum():
    counts = [
        StratumCounts(population=100, annotated=10, positives=3, members=10),
        StratumCounts(population=50, annotated=5, positives=1, members=6),
        StratumCounts(population=5, annotated=5, positives=4, members=5),  # take-all
    ]
    est = stratified_estimate(counts)
    assert est["p"] == pytest.approx(44 / 155)  # (30 + 10 + 4) / 155
    var = (100 / 155) ** 2 * 0.9 * 0.3 * 0.7 / 9 + (50 / 155) ** 2 * 0.9 * 0.2 * 0.8 / 4
    assert var == pytest.approx(0.01248699, abs=1e-8)
    assert est["se"] == pytest.approx(math.sqrt(var))
    assert est["cv"] == pytest.approx(math.sqrt(var) / (44 / 155))
    assert est["ci95"] == pytest.approx(
        [44 / 155 - 1.959964 * math.sqrt(var), 44 / 155 + 1.959964 * math.sqrt(var)]
    )
    assert est["unweighted"] == pytest.approx(8 / 20)
    srs = (1 - 20 / 155) * 0.4 * 0.6 / 19
    assert est["design_effect"] == pytest.approx(var / srs)
    assert (est["annotated"], est["missing"]) == (20, 1)


def test_take_all_stratum_adds_no_variance():
    base = [StratumCounts(100, 10, 3, 10), StratumCounts(50, 5, 1, 5)]
    low = stratified_estimate([*base, StratumCounts(5, 5, 0, 5)])
    high = stratified_estimate([*base, StratumCounts(5, 5, 5, 5)])
    assert high["p"] - low["p"] == pytest.approx(5 / 155)
    assert low["se"] == pytest.approx(high["se"])


def test_estimate_waits_for_every_stratum():
    est = stratified_estimate([StratumCounts(100, 4, 1, 10), StratumCounts(50, 0, 0, 5)])
    assert est["p"] is None and est["unweighted"] == 0.25 and est["missing"] == 11
    one = stratified_estimate([StratumCounts(100, 4, 1, 10), StratumCounts(50, 1, 1, 5)])
    assert one["p"] == pytest.approx(100 / 150 * 0.25 + 50 / 150) and one["se"] is None
