"""Cohen's kappa and the stopping hint on hand-computed cases."""
from __future__ import annotations

import pytest

from models_zoo.active_learning.stopping import cohen_kappa, decisions_kappa, stopping_hint


def test_kappa_matches_the_hand_computed_value() -> None:
    # 10 items: agree on 4 yes + 4 no, disagree on 2. po = .8; p_yes(a) = .5, p_yes(b) = .5
    # pe = .25 + .25 = .5 -> kappa = (.8 - .5) / .5 = .6
    a = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    b = [1, 1, 1, 1, 0, 1, 0, 0, 0, 0]
    assert cohen_kappa(a, b) == pytest.approx(0.6)


def test_kappa_is_one_for_identical_and_handles_one_category() -> None:
    assert cohen_kappa(["x", "y", "x"], ["x", "y", "x"]) == 1.0
    assert cohen_kappa([0, 0, 0], [0, 0, 0]) == 1.0
    assert cohen_kappa([0, 0, 0], [0, 0, 1]) == 0.0
    with pytest.raises(ValueError):
        cohen_kappa([1], [1, 0])


def test_multilabel_kappa_flattens_example_label_decisions() -> None:
    first = [["HS"], ["HS", "TR"], []]
    second = [["HS"], ["HS"], []]
    # 6 decisions, one differs (example 1, TR): po = 5/6; p_yes a = 3/6, b = 2/6
    # pe = (3/6)(2/6) + (3/6)(4/6) = 1/6 + 2/6 = .5 -> (5/6 - .5)/.5 = 2/3
    assert decisions_kappa(first, second, ["HS", "TR"], "multilabel") == pytest.approx(2 / 3)
    assert decisions_kappa([["a"], ["b"]], [["a"], ["b"]], ["a", "b"], "singlelabel") == 1.0


def test_the_hint_needs_three_stable_versions_in_a_row() -> None:
    assert not stopping_hint([0.995, 0.999])
    assert not stopping_hint([0.995, 0.98, 0.999, 0.999])
    assert stopping_hint([0.5, 0.995, 0.991, 0.999])
    assert not stopping_hint([None, 0.995, 0.999])
