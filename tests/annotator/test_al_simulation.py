"""The simulation algorithm on synthetic vectors: shapes, seeding, full F1, AULC, labels_to_95."""
from __future__ import annotations

import numpy as np
import pytest

from annotator.active_learning.simulation import aulc, macro_f1, simulate


def separable(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=n) < 0.3).astype(int)
    x = rng.normal(size=(n, 8)) * 0.5
    x[:, 0] += np.where(y == 1, 2.0, -2.0)
    return x, y[:, None]


def test_macro_f1_by_hand() -> None:
    t = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    p = np.array([[1, 0], [0, 1], [0, 1], [0, 1]])
    # label 0: tp 1, |t| 2, |p| 1 -> 2/3; label 1: tp 2, |t| 2, |p| 3 -> 4/5
    assert macro_f1(t, p) == pytest.approx((2 / 3 + 4 / 5) / 2)


def test_aulc_is_the_mean_f1_over_the_budget() -> None:
    points = [{"labels": 10, "f1_mean": 0.2}, {"labels": 20, "f1_mean": 0.4},
              {"labels": 40, "f1_mean": 0.4}]
    # trapezoids: 10 * .3 + 20 * .4 = 11 over 30 labels
    assert aulc(points) == pytest.approx(11 / 30)


def test_a_simulation_gives_curves_per_strategy_and_is_seeded() -> None:
    x, y = separable()
    kwargs = dict(n0=10, batch=5, rounds=4, seeds=2, test_fraction=0.25)
    seen = []
    result = simulate(x, y, ["HS"], "binary", ["random", "margin", "margin_diverse"],
                      progress=seen.append, **kwargs)
    assert result.full_f1 > 0.95
    for strategy in ("random", "margin", "margin_diverse"):
        curve = result.curves[strategy]
        assert [p["labels"] for p in curve] == [10, 15, 20, 25, 30]
        assert all(0 <= p["f1_mean"] <= 1 and p["f1_sd"] >= 0 for p in curve)
        assert 0 < result.aulc[strategy] <= 1
    # Separable data: margin reaches 95% of the full F1 within the budget.
    assert result.labels_to_95["margin"] is not None
    assert seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    again = simulate(x, y, ["HS"], "binary", ["random", "margin", "margin_diverse"], **kwargs)
    assert again.as_dict() == result.as_dict()


def test_single_label_and_likely_positive_run() -> None:
    x, y = separable(200, seed=3)
    y2 = np.hstack([1 - y, y])
    result = simulate(x, y2, ["neg", "pos"], "singlelabel", ["entropy", "likely_positive"],
                      n0=10, batch=10, rounds=2, seeds=1, test_fraction=0.3, label_index=1)
    assert set(result.curves) == {"entropy", "likely_positive"}
    assert result.curves["entropy"][-1]["labels"] == 30
