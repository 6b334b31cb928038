"""The simulation algorithm on synthetic vectors: shapes, seeding, the project's recipe in every
round, prevalence, starts, figures (AULC, labels to 95% / to a target, null when full F1 is 0)."""
from __future__ import annotations

import numpy as np
import pytest

from models_zoo.active_learning.figures import aulc, labels_to, macro_f1, spread, summarise
from models_zoo.active_learning.simulation import Start, pick_batch, simulate
from models_zoo.recipe import TrainingRecipe


def separable(n=300, seed=0, share=0.3):
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=n) < share).astype(int)
    x = rng.normal(size=(n, 8)) * 0.5
    x[:, 0] += np.where(y == 1, 2.0, -2.0)
    return x, y[:, None]


def recipe(labels=("HS",), task_type="binary", **config):
    return TrainingRecipe(list(labels), task_type, {"seed": 13, **config})


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


def test_label_counts_are_null_when_the_full_f1_is_zero() -> None:
    # Issue 18: with a full-data F1 of 0, 95% of it is 0 and every curve "reached" it at once.
    assert labels_to([20, 40, 60], [0.0, 0.0, 0.0], 0.95 * 0.0, 0.0) is None
    assert labels_to([20, 40, 60], [0.1, 0.5, 0.7], 0.5, 0.0) is None
    assert labels_to([20, 40, 60], [0.1, 0.5, 0.7], 0.95 * 0.6, 0.6) == 60
    assert labels_to([20, 40, 60], [0.1, 0.5, 0.7], None, 0.6) is None
    figures = summarise([20, 40], np.zeros((3, 2)), np.zeros(3), target_f1=0.5)
    assert figures["mean_curve"]["labels_to_95"] is None
    assert figures["labels_to_95"] == {"mean": None, "sd": None, "reached": 0, "seeds": 3}


def test_figures_spread_over_seeds_by_hand() -> None:
    curves = np.array([[0.2, 0.6, 0.8], [0.4, 0.4, 0.9]])
    figures = summarise([10, 20, 30], curves, np.array([0.8, 0.9]), target_f1=0.6)
    # seed 0 reaches .76 at 30, seed 1 reaches .855 at 30; target .6: 20 and 30.
    assert figures["labels_to_95"] == {"mean": 30.0, "sd": 0.0, "reached": 2, "seeds": 2}
    assert figures["labels_to_target"] == {"mean": 25.0, "sd": 5.0, "reached": 2, "seeds": 2}
    # AULC per seed: (0.4 + 0.7) / 2 = .55 and (0.4 + 0.65) / 2 = .525
    assert figures["aulc"]["mean"] == pytest.approx(0.5375) and figures["aulc"]["sd"] == pytest.approx(0.0125)
    assert figures["f1"]["mean"] == pytest.approx(0.85)
    assert spread([1.0, None]) == {"mean": 1.0, "sd": 0.0, "reached": 1, "seeds": 2}


def test_a_simulation_gives_curves_per_strategy_and_is_seeded() -> None:
    x, y = separable()
    kwargs = dict(n0=10, batch=5, rounds=4, seeds=2, test_fraction=0.25, label_index=0)
    seen = []
    strategies = ["random", "margin", "margin_diverse", "margin_mixed"]
    result = simulate(x, y, recipe(), strategies, progress=seen.append, **kwargs)
    assert result.full_f1 > 0.95
    for strategy in strategies:
        curve = result.curves[strategy]
        assert [p["labels"] for p in curve] == [10, 15, 20, 25, 30]
        assert all(0 <= p["f1_mean"] <= 1 and p["f1_sd"] >= 0 for p in curve)
        assert 0 < result.aulc[strategy] <= 1
    # Separable data: margin reaches 95% of the full F1 within the budget.
    assert result.labels_to_95["margin"] is not None
    assert seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    again = simulate(x, y, recipe(), strategies, **kwargs)
    assert again.as_dict() == result.as_dict()
    figures = result.as_dict()["starts"][0]["strategies"]["margin"]["per_label"]["HS"]
    assert figures["f1"]["seeds"] == 2 and figures["labels_to_95"]["reached"] >= 1


def test_every_round_trains_with_the_recipe_and_its_thresholds() -> None:
    # Noisy labels so calibrated thresholds move away from 0.5.
    x, y = separable(400, seed=4, share=0.2)
    x[:, 0] += np.random.default_rng(9).normal(size=len(x)) * 2
    seen = []
    the_recipe = recipe(threshold_objective="f1_positive", threshold_calibration="cross_validation")
    simulate(x, y, the_recipe, ["margin"], n0=40, batch=20, rounds=2, seeds=1, test_fraction=0.25,
             label_index=0, on_round=seen.append)
    assert len(seen) == 3 and [len(r["rows"]) for r in seen] == [40, 60, 80]
    last = seen[-1]
    # The round's model is the recipe fitted on exactly those rows, in row (= id) order.
    again = the_recipe.fit(x[last["rows"]], y[last["rows"]])
    assert last["model"].thresholds == again.thresholds
    assert last["model"].config.threshold_calibration == "cross_validation"
    assert last["model"].metrics["threshold_calibration"]["method"] == "cross_validation"
    assert list(last["rows"]) == sorted(last["rows"])


def test_rounds_without_two_classes_predict_nothing_and_pick_at_random() -> None:
    x, y = separable(300, seed=2, share=0.05)
    seen = []
    result = simulate(x, y, recipe(), ["likely_positive"], n0=3, batch=3, rounds=1, seeds=1,
                      test_fraction=0.3, label_index=0, on_round=seen.append)
    assert seen[0]["model"] is None  # 3 labels: a run could not train
    assert result.curves["likely_positive"][0]["f1_mean"] == 0.0


def test_prevalence_subsamples_the_pool_and_the_test_split() -> None:
    x, y = separable(1000, seed=1, share=0.4)
    result = simulate(x, y, recipe(), ["random"], n0=20, batch=10, rounds=1, seeds=2,
                      test_fraction=0.2, label_index=0, prevalence=0.05).as_dict()
    sizes = result["sizes"]
    pool_share = sizes["pool_positives"]["mean"] / sizes["pool"]["mean"]
    test_share = sizes["test_positives"]["mean"] / sizes["test"]["mean"]
    assert pool_share == pytest.approx(0.05, abs=0.003) and test_share == pytest.approx(0.05, abs=0.01)
    n_neg = round(1000 * 0.8) - round(y[:, 0].sum() * 0.8)  # every pool negative stays
    assert sizes["pool"]["mean"] - sizes["pool_positives"]["mean"] == pytest.approx(n_neg, abs=2)


def test_several_starts_share_the_seeds_and_the_query_start_finds_positives() -> None:
    x, y = separable(600, seed=3, share=0.1)
    closeness = x[:, 0] / np.abs(x[:, 0]).max()  # a "description" pointing at the positives
    starts = [Start(), Start("query", {"query": ["flood"]}, closeness=closeness)]
    out = simulate(x, y, recipe(), ["margin"], n0=10, batch=10, rounds=1, seeds=2,
                   test_fraction=0.25, label_index=0, starts=starts).as_dict()
    assert [s["kind"] for s in out["starts"]] == ["random", "query"]
    assert out["starts"][1]["start_positives"]["mean"] == 10  # all 10 nearest are positives
    assert out["starts"][0]["start_positives"]["mean"] < 5
    assert out["curves"] == {"margin": out["starts"][0]["strategies"]["margin"]["overall"]["curve"]}


def test_a_mixed_batch_is_half_likely_positives_half_unsure() -> None:
    probs = np.array([[0.99], [0.95], [0.5], [0.52], [0.9], [0.1], [0.47]])
    picked = pick_batch("margin_mixed", probs, np.zeros((7, 2)), "binary", 4, np.random.default_rng(0), 0)
    # likely: rows 0 and 1; then the most unsure of the rest: 3 (.52 -> .96) and 2 (.5 -> 1.0)
    assert list(picked[:2]) == [0, 1] and set(picked[2:]) == {2, 3}


def test_single_label_and_likely_positive_run() -> None:
    x, y = separable(200, seed=3)
    y2 = np.hstack([1 - y, y])
    result = simulate(x, y2, recipe(("neg", "pos"), "singlelabel"), ["entropy", "likely_positive"],
                      n0=10, batch=10, rounds=2, seeds=1, test_fraction=0.3, label_index=1)
    assert set(result.curves) == {"entropy", "likely_positive"}
    assert result.curves["entropy"][-1]["labels"] == 30


def test_group_cross_validation_passes_through_to_every_round() -> None:
    x, y = separable(300, seed=5, share=0.3)
    events = np.array([f"e{i % 4}" for i in range(len(x))], dtype=object)
    seen = []
    the_recipe = recipe(threshold_calibration="group_cross_validation", calibration_folds=3)
    assert the_recipe.group_field == "event"
    simulate(x, y, the_recipe, ["margin"], n0=40, batch=20, rounds=1, seeds=1, test_fraction=0.25,
             label_index=0, groups=events, on_round=seen.append)
    last = seen[-1]
    report = last["model"].metrics["threshold_calibration"]
    # 4 events, at most 3 folds: merged; the round's model is the recipe on those rows.
    assert (report["method"], report["groups"], report["folds"]) == ("group_cross_validation", 4, 3)
    again = the_recipe.fit(x[last["rows"]], y[last["rows"]], groups=list(events[last["rows"]]))
    assert again.thresholds == last["model"].thresholds
    # Without the groups the round falls back, and says so.
    assert the_recipe.fit(x[last["rows"]], y[last["rows"]]).metrics["threshold_calibration"]["groups"] == 0
