"""Starts and prevalence subsampling (issue 18) on hand-made arrays."""
from __future__ import annotations

import numpy as np
import pytest

from models_zoo.active_learning.starts import (
    keyword_matches,
    pick_start,
    query_closeness,
    subsample_to_prevalence,
)


def test_too_many_positives_keeps_every_negative_and_draws_positives() -> None:
    positive = np.array([True] * 100 + [False] * 900)
    kept = subsample_to_prevalence(positive, 0.03, np.random.default_rng(0))
    # round(0.03 * 900 / 0.97) = round(27.84) = 28 positives with all 900 negatives
    assert positive[kept].sum() == 28 and (~positive[kept]).sum() == 900
    assert list(kept) == sorted(set(kept.tolist()))
    again = subsample_to_prevalence(positive, 0.03, np.random.default_rng(0))
    assert np.array_equal(kept, again)


def test_too_few_positives_keeps_every_positive_and_draws_negatives() -> None:
    positive = np.array([True] * 10 + [False] * 90)
    kept = subsample_to_prevalence(positive, 0.25, np.random.default_rng(1))
    # round(10 * 0.75 / 0.25) = 30 negatives with all 10 positives
    assert positive[kept].sum() == 10 and (~positive[kept]).sum() == 30


def test_a_rare_share_keeps_at_least_one_positive() -> None:
    positive = np.array([True] * 5 + [False] * 20)
    kept = subsample_to_prevalence(positive, 0.01, np.random.default_rng(2))
    assert positive[kept].sum() == 1 and len(kept) == 21


def test_bad_prevalences_are_refused() -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        subsample_to_prevalence(np.array([True, False]), 1.0, np.random.default_rng(0))


def test_a_query_start_takes_the_n0_nearest_to_any_description() -> None:
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [-1, 0], [0.7, 0.7]], dtype=float)
    queries = np.array([[1, 0], [0, 1]], dtype=float)
    closeness = query_closeness(vectors, queries)
    assert closeness[4] == pytest.approx(0.0)  # cos to (0, 1); -1 to (1, 0): the best counts
    first = pick_start("query", 4, np.random.default_rng(0), closeness=closeness)
    assert set(first) == {0, 1, 2, 3}  # cosines 1, .994, 1, .994; (0.7, 0.7) is .707


def test_a_model_start_takes_the_n0_likeliest_positives() -> None:
    scores = np.array([0.1, 0.8, 0.3, 0.95, 0.5])
    assert list(pick_start("model_version", 2, np.random.default_rng(0), scores=scores)) == [3, 1]


def test_a_keyword_start_picks_among_matches_and_tops_up_at_random() -> None:
    texts = ["Flood in the city", "floodgates open", "#flood again", "sunny day", "storm warning",
             "the storm is here", "nothing"]
    matches = keyword_matches(texts, ["flood", "Storm"])
    assert matches.tolist() == [True, False, True, False, True, True, False]
    picked = pick_start("keywords", 3, np.random.default_rng(0), matches=matches)
    assert len(picked) == 3 and set(picked) <= {0, 2, 4, 5}
    topped = pick_start("keywords", 6, np.random.default_rng(0), matches=matches)
    assert {0, 2, 4, 5} <= set(topped) and len(set(topped)) == 6


def test_a_random_start_draws_n0_distinct_seeded() -> None:
    a = pick_start("random", 5, np.random.default_rng(3), n=20)
    b = pick_start("random", 5, np.random.default_rng(3), n=20)
    assert len(set(a)) == 5 and np.array_equal(a, b)
    with pytest.raises(ValueError, match="unknown start"):
        pick_start("psychic", 5, np.random.default_rng(3), n=20)
