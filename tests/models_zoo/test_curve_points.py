"""Curve points and confusion on hand-computed cases (issue 13)."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from models_zoo.curve_points import (
    confusion_matrix,
    cooccurrence,
    loss_series,
    pr_points,
    roc_points,
    validation_plots,
)

# scores 0.9(+) 0.8(-) 0.7(+) 0.1(-): thresholds 0.9, 0.8, 0.7, 0.1
Y = [1, 0, 1, 0]
S = [0.9, 0.8, 0.7, 0.1]


def test_roc_points_by_hand():
    roc = roc_points(Y, S)
    # tp 1,1,2,2 / 2 ; fp 0,1,1,2 / 2
    assert roc["points"] == [[0.0, 0.0], [0.0, 0.5], [0.5, 0.5], [0.5, 1.0], [1.0, 1.0]]
    assert roc["auc"] == 0.75 == roc_auc_score(Y, S)


def test_pr_points_by_hand():
    pr = pr_points(Y, S)
    # precision 1/1, 1/2, 2/3, 2/4 at recall .5, .5, 1, 1
    assert pr["points"] == [[0.0, 1.0], [0.5, 1.0], [0.5, 0.5], [1.0, 0.6667], [1.0, 0.5]]
    # AP = 0.5 * 1 + 0.5 * 2/3
    assert pr["ap"] == pytest.approx(0.8333, abs=1e-4)
    assert pr["ap"] == pytest.approx(average_precision_score(Y, S), abs=1e-4)
    assert pr["prevalence"] == 0.5


def test_ties_make_one_point_and_undefined_curves_are_none():
    roc = roc_points([1, 0], [0.5, 0.5])
    assert roc["points"] == [[0.0, 0.0], [1.0, 1.0]] and roc["auc"] == 0.5
    assert roc_points([1, 1], [0.2, 0.3]) is None
    assert pr_points([0, 0], [0.2, 0.3]) is None


def test_long_curves_are_thinned_keeping_both_ends():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    roc = roc_points(y, rng.random(500))
    assert len(roc["points"]) <= 101
    assert roc["points"][0] == [0.0, 0.0] and roc["points"][-1] == [1.0, 1.0]


def test_confusion_matrix_counts_gold_rows_against_predicted_columns():
    assert confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], 3) == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]


def test_cooccurrence_of_gold_and_predicted_labels():
    gold = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    pred = np.array([[1, 1], [0, 1], [1, 0], [0, 0]])
    out = cooccurrence(gold, pred)
    # gold A: items 0,1 -> predicted A once (item 0), B twice (items 0,1)
    # gold B: items 1,3 -> predicted A 0, B once (item 1)
    assert out["matrix"] == [[1, 2], [0, 1]]
    assert out["no_pred"] == [0, 1]  # item 3 (gold B) got nothing
    assert out["no_gold"] == [1, 0]  # item 2 (no gold) predicted A
    assert out["neither"] == 0


def test_cooccurrence_of_one_label_counts_the_true_negatives():
    gold = np.array([[1], [1], [0], [0], [0]])
    pred = np.array([[1], [0], [1], [0], [0]])
    out = cooccurrence(gold, pred)
    assert (out["matrix"], out["no_pred"], out["no_gold"], out["neither"]) == ([[1]], [1], [1], 2)


def test_validation_plots_single_label_uses_a_matrix():
    y = np.array([[1, 0], [0, 1], [0, 1]])
    s = np.array([[0.8, 0.2], [0.6, 0.4], [0.1, 0.9]])
    pred = np.array([[1, 0], [1, 0], [0, 1]])
    plots = validation_plots(y, s, pred, ["a", "b"], "singlelabel")
    assert plots["confusion"] == {"labels": ["a", "b"], "kind": "matrix", "matrix": [[1, 0], [1, 1]]}
    assert plots["curves"]["b"]["positives"] == 2 and plots["curves"]["a"]["roc"]["auc"] == 1.0


def test_loss_series_skips_missing_values():
    history = [{"epoch": 1, "train_loss": 0.9, "val_loss": 0.8}, {"epoch": 2, "train_loss": 0.5}]
    assert loss_series(history) == {"training loss": [(1.0, 0.9), (2.0, 0.5)], "validation loss": [(1.0, 0.8)]}
    assert loss_series(None) == {}
