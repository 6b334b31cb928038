"""Threshold objectives on hand-made scores: the exact threshold each must pick (grid 0.01 ..
0.04, then 0.05 .. 0.95), ties, and targets no threshold reaches; cross-validated scores."""
from __future__ import annotations

import numpy as np
import pytest

from models_zoo.backends import _classify as C
from models_zoo.thresholds import calibrate, check_targets, objective_curve, pick_threshold

# 3 positives, 5 negatives. Predicted positive at threshold t:
#   t <= 0.10 (0.01 .. 0.10): all 8 (tp 3, fp 5)       0.15-0.20: 0.9 0.7 0.3 0.6 0.2 (tp 3, fp 2)
#   0.25-0.30: 0.9 0.7 0.3 0.6 (tp 3, fp 1)   0.35-0.60: 0.9 0.7 0.6 (tp 2, fp 1)
#   0.65-0.70: 0.9 0.7 (tp 2, fp 0)     0.75-0.90: 0.9 (tp 1)     0.95: nothing
Y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
S = np.array([0.9, 0.7, 0.3, 0.6, 0.2, 0.1, 0.1, 0.1])


def test_f1_positive_picks_the_best_plateau_closest_to_half():
    # F1: .545 .545 .75 .75 .857 .857 .667 ... -> best 6/7 at 0.25 and 0.30; 0.30 is closer to 0.5.
    picked = pick_threshold(Y, S, "f1_positive")
    assert picked.threshold == 0.30
    assert picked.value == pytest.approx(6 / 7)


def test_f1_macro_and_f1_positive_part_where_predicting_everything_pays_the_positive_class():
    # y 0 1 1 0 0 / scores .9 .6 .4 .4 .9. t <= .40 predicts all: F1+ 4/7, F1- 0 -> macro 2/7.
    # .45-.60: tp 1 fp 2 fn 1 tn 1: F1+ .4, F1- .4 -> macro .4. .65-.90: macro 1/6. .95: 3/8.
    y, s = np.array([0, 1, 1, 0, 0]), np.array([0.9, 0.6, 0.4, 0.4, 0.9])
    assert pick_threshold(y, s, "f1_positive").threshold == 0.40
    macro = pick_threshold(y, s, "f1_macro")
    assert macro.threshold == 0.50
    assert macro.value == pytest.approx(0.4)


def test_a_tie_at_equal_distance_from_half_goes_to_the_lower_threshold():
    # Best F1+ 2/3 on 0.35-0.45 and on 0.55-0.90; 0.5 itself scores 0.4 (tp 1 fp 2 fn 1).
    y = np.array([0, 0, 1, 1, 0, 0])
    s = np.array([0.52, 0.3, 0.9, 0.47, 0.1, 0.52])
    assert dict(objective_curve(y, s, "f1_positive"))[0.5] == pytest.approx(0.4)
    assert pick_threshold(y, s, "f1_positive").threshold == 0.45


def test_target_recall_takes_the_highest_threshold_that_still_reaches_it():
    # recall: 1 up to 0.30, 2/3 on 0.35-0.70, 1/3 on 0.75-0.90, 0 at 0.95.
    assert pick_threshold(Y, S, "target_recall", 0.9).threshold == 0.30
    assert pick_threshold(Y, S, "target_recall", 0.6).threshold == 0.70
    met = pick_threshold(Y, S, "target_recall", 1.0)
    assert (met.threshold, met.target_met, met.note) == (0.30, True, "")


def test_an_unreachable_recall_target_takes_the_lowest_threshold_and_says_so():
    # A fourth positive scored 0.005 is below every grid threshold: recall is at most 3/4.
    y, s = np.append(Y, 1), np.append(S, 0.005)
    picked = pick_threshold(y, s, "target_recall", 0.9)
    assert picked.threshold == 0.01
    assert picked.target_met is False
    assert picked.note == "recall target 0.9 not reached: best recall 0.750 at 0.01"


def test_target_precision_takes_the_lowest_threshold_that_reaches_it():
    # precision: 3/8 to 0.10, 3/5 on 0.15-0.20, 3/4 on 0.25-0.30, 2/3 on 0.35-0.60, 1 on
    # 0.65-0.90, undefined at 0.95 (nothing predicted). Not monotone: 0.25 meets .7, 0.35 does not.
    assert pick_threshold(Y, S, "target_precision", 0.7).threshold == 0.25
    assert pick_threshold(Y, S, "target_precision", 0.9).threshold == 0.65
    assert dict(objective_curve(Y, S, "target_precision"))[0.95] is None


def test_an_unreachable_precision_target_takes_the_best_precision_and_says_so():
    # A negative outscores the only positive: precision .5 up to 0.30, 0 above.
    picked = pick_threshold(np.array([1, 0]), np.array([0.3, 0.97]), "target_precision", 0.9)
    assert (picked.threshold, picked.target_met) == (0.01, False)
    assert picked.note == "precision target 0.9 not reached: best precision 0.500 at 0.01"


def test_precision_target_without_any_predicted_positive_falls_back_to_half():
    picked = pick_threshold(np.array([1, 0]), np.array([0.001, 0.002]), "target_precision", 0.8)
    assert (picked.threshold, picked.target_met) == (0.5, False)
    assert "no threshold predicts a positive" in picked.note


def test_none_is_half_whatever_the_scores():
    assert pick_threshold(Y, S, "none").threshold == 0.5


def test_a_label_without_validation_positives_keeps_half():
    picked = pick_threshold(np.zeros(4, dtype=int), np.array([0.9, 0.8, 0.1, 0.2]), "f1_macro")
    assert picked.threshold == 0.5
    assert picked.note == "no positive in the validation split: 0.5"


def test_bad_objectives_and_targets_are_named():
    with pytest.raises(ValueError, match="unknown threshold objective 'f2'"):
        pick_threshold(Y, S, "f2")
    with pytest.raises(ValueError, match=r"target must be in \(0, 1\], got 1.5"):
        pick_threshold(Y, S, "target_recall", 1.5)
    assert check_targets({"HS": 0.9, "XX": 0.5, "TR": 0}, ["HS", "TR"]) == [
        "unknown label 'XX'; labels are HS, TR", "target of 'TR' must be a number in (0, 1], got 0"]


def test_calibrate_uses_each_labels_target_and_the_default_for_the_others():
    y = np.stack([Y, Y], axis=1)
    s = np.stack([S, S], axis=1)
    thresholds, report = calibrate(y, s, ["A", "B"], "target_recall", {"A": 0.6})
    assert thresholds == {"A": 0.70, "B": 0.30}  # B: the default target 0.9
    assert report["objective"] == "target_recall"
    assert report["per_label"]["B"]["target"] == 0.9
    assert len(report["per_label"]["A"]["curve"]) == 23


def test_calibrate_and_measure_applies_the_objective_and_records_the_curve():
    y, s = np.array([[0], [1], [1], [0], [0]]), np.array([[0.9], [0.6], [0.4], [0.4], [0.9]])
    thresholds, metrics = C.calibrate_and_measure(y, s, ["HS"], "binary", "f1_macro")
    assert thresholds == {"HS": 0.5}
    assert metrics["threshold_calibration"]["per_label"]["HS"]["threshold"] == 0.5
    # at 0.5: tp 1 fp 2 fn 1 -> positive-class F1 (the binary project's f1_macro) 0.4
    assert metrics["f1_macro"] == pytest.approx(0.4)


def test_cross_validated_scores_come_from_models_that_never_saw_the_row():
    from models_zoo.thresholds import out_of_fold_scores

    seen = []

    def fit_and_score(train, held):
        seen.append((list(train), list(held)))
        assert not set(train) & set(held)
        return np.asarray(held, dtype=float)[:, None] / 10  # score = row / 10

    scores = out_of_fold_scores(5, 1, [[0, 3], [1, 4], [2]], fit_and_score)
    assert scores[:, 0].tolist() == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert seen[0] == ([1, 2, 4], [0, 3])
    with pytest.raises(ValueError, match="lie in no fold"):
        out_of_fold_scores(5, 1, [[0, 3], [1, 4]], fit_and_score)


def test_calibrate_records_the_method_and_the_positives_it_rested_on():
    thresholds, report = calibrate(Y[:, None], S[:, None], ["A"], "f1_positive",
                                   method="cross_validation", folds=5)
    assert thresholds == {"A": 0.30}
    assert (report["method"], report["folds"]) == ("cross_validation", 5)
    assert report["per_label"]["A"]["positives"] == 3
    with pytest.raises(ValueError, match="unknown threshold calibration"):
        calibrate(Y[:, None], S[:, None], ["A"], method="vibes")


def test_calibrate_records_group_cross_validation_groups_and_note():
    _, report = calibrate(Y[:, None], S[:, None], ["A"], "f1_positive", method="group_cross_validation",
                          folds=3, groups=4, group_field="event", note="")
    assert (report["method"], report["folds"], report["groups"], report["group_field"]) == (
        "group_cross_validation", 3, 4, "event")
    _, plain = calibrate(Y[:, None], S[:, None], ["A"], "f1_positive", method="cross_validation", folds=5)
    assert "groups" not in plain
