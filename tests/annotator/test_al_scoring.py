"""Active-learning priorities on hand-made scores: which example each strategy must pick."""
from __future__ import annotations

import numpy as np
import pytest

from models_zoo.active_learning import scoring as S

# Single-label, 3 classes. Row 0 sure; row 1 has the lowest top prob (least confidence);
# row 2 has the closest top-2 (margin) but a confident-ish top; row 3 spread over all three.
SINGLE = np.array([
    [0.90, 0.05, 0.05],
    [0.40, 0.35, 0.25],
    [0.48, 0.47, 0.05],
    [0.34, 0.33, 0.33],
])


def pick(priority: np.ndarray) -> int:
    return int(np.argmax(priority))


def test_least_confidence_picks_the_lowest_top_probability() -> None:
    lc = S.least_confidence(SINGLE, "singlelabel")
    assert pick(lc) == 3
    assert lc[1] == pytest.approx(0.60)
    assert lc[0] == pytest.approx(0.10)


def test_margin_picks_the_closest_top_two() -> None:
    m = S.margin(SINGLE[:3], "singlelabel")
    assert pick(m) == 2
    assert m[2] == pytest.approx(0.99)
    assert m[1] == pytest.approx(0.95)


def test_entropy_picks_the_flattest_row_and_is_normalised() -> None:
    h = S.entropy(SINGLE, "singlelabel")
    assert pick(h) == 3
    assert h[3] == pytest.approx(1.0, abs=1e-3)
    assert 0 < h[0] < h[1]


def test_binary_uncertainty_peaks_at_one_half() -> None:
    p = np.array([[0.97], [0.52], [0.10], [0.70]])
    for fn in (S.least_confidence, S.margin, S.entropy):
        assert pick(fn(p, "binary")) == 1
    assert S.margin(p, "binary")[1] == pytest.approx(0.96)
    assert S.least_confidence(p, "binary")[3] == pytest.approx(0.30)


# Multilabel, 2 labels. Row 0: both sure. Row 1: one label at 0.5, the other sure
# (min-margin and max-entropy pick it). Row 2: both mildly unsure (mean margin picks it).
MULTI = np.array([
    [0.99, 0.01],
    [0.50, 0.99],
    [0.30, 0.70],
])


def test_multilabel_mean_margin_picks_the_row_unsure_on_average() -> None:
    m = S.margin(MULTI, "multilabel")
    # mean |2p-1|: row1 (0 + .98)/2 = .49 -> .51; row2 (.4 + .4)/2 = .4 -> .6
    assert m[1] == pytest.approx(0.51)
    assert m[2] == pytest.approx(0.60)
    assert pick(m) == 2


def test_multilabel_min_margin_and_max_entropy_pick_the_row_with_one_coin_flip() -> None:
    assert pick(S.margin_min(MULTI, "multilabel")) == 1
    assert S.margin_min(MULTI, "multilabel")[1] == pytest.approx(1.0)
    h = S.entropy(MULTI, "multilabel")
    assert pick(h) == 1
    assert h[1] == pytest.approx(1.0)


def test_likely_positive_orders_by_the_label_probability() -> None:
    lp = S.likely_positive(MULTI, 1)
    assert pick(lp) == 1
    assert list(np.argsort(-lp)) == [1, 2, 0]
    with pytest.raises(ValueError, match="out of range"):
        S.likely_positive(MULTI, 2)


def test_margin_diverse_takes_one_per_cluster_not_near_duplicates() -> None:
    # Six equally-unsure examples: four near-duplicates at (1, 0), two at (0, 1); three sure
    # ones far away. With batch 2 the picks must be one of each group, never two duplicates.
    probs = np.array([[0.5], [0.51], [0.49], [0.5], [0.52], [0.48], [0.99], [0.01], [0.98]])
    vectors = np.array([
        [1, 0], [1, 0.01], [0.99, 0], [1, 0.02],
        [0, 1], [0.01, 1],
        [-1, 0], [0, -1], [-1, -1],
    ], dtype=float)
    rng = np.random.default_rng(7)
    chosen = S.diverse_batch(S.margin(probs, "binary"), vectors, batch=2, m=3, rng=rng)
    groups = {"dup" if i < 4 else "other" for i in chosen}
    assert len(chosen) == 2 and groups == {"dup", "other"}
    pr = S.margin_diverse(probs, "binary", vectors, np.random.default_rng(7), batch=2, m=3)
    assert set(np.argsort(-pr)[:2]) == set(chosen.tolist())
    # Plain margin would have handed out the two near-duplicates 0 and 3 first.
    assert set(np.argsort(-S.margin(probs, "binary"), kind="stable")[:2]) == {0, 3}


def test_margin_diverse_is_seeded() -> None:
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    x = np.random.default_rng(0).normal(size=(50, 4))
    p = np.random.default_rng(1).uniform(size=(50, 1))
    a = S.margin_diverse(p, "binary", x, rng_a, batch=5, m=4)
    b = S.margin_diverse(p, "binary", x, rng_b, batch=5, m=4)
    assert np.array_equal(a, b)
    assert (a > 1).sum() == 5


def test_priorities_dispatch_and_errors() -> None:
    assert pick(S.priorities("margin", SINGLE[:3], "singlelabel")) == 2
    with pytest.raises(ValueError, match="queue_label"):
        S.priorities("likely_positive", MULTI, "multilabel")
    with pytest.raises(ValueError, match="not an active-learning"):
        S.priorities("random", MULTI, "multilabel")


def test_spans_rank_by_the_lowest_mean_word_confidence():
    from models_zoo.active_learning.scoring import span_uncertainty

    priorities = span_uncertainty(np.array([0.9, 0.4, 0.75, 1.0]))
    assert priorities == pytest.approx([0.1, 0.6, 0.25, 0.0])
    assert int(np.argmax(priorities)) == 1
