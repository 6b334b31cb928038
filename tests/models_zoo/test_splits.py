"""Validation splits as pure functions: a group is never on both sides; date ranges."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from models_zoo.splits import (
    date_split,
    describe_split,
    group_split,
    parse_split,
    parse_when,
    split_record_of,
    split_signature,
)


def test_a_group_split_never_puts_one_group_on_both_sides():
    events = ["sandy", "boston", "sandy", None, "alberta", "boston", "sandy", 7, "alberta"]
    train, validation = group_split(events, ["boston", "7"])
    assert validation == [1, 5, 7]
    assert train == [0, 2, 3, 4, 6, 8]
    assert {str(events[i]) for i in train}.isdisjoint({str(events[i]) for i in validation})
    assert sorted(train + validation) == list(range(len(events)))


def test_a_date_split_trains_before_the_day_and_validates_from_it():
    created = ["2013-02-28T23:59:59Z", "2013-03-01", "Sun Nov 11 05:54:01 +0000 2018", "", "garbage",
               "2012-10-29T12:00:00+02:00"]
    train, validation, excluded = date_split(created, date(2013, 3, 1))
    assert (train, validation, excluded) == ([0, 5], [1, 2], [3, 4])


def test_x_api_dates_and_iso_dates_parse_to_aware_datetimes():
    assert parse_when("Sun Nov 11 05:54:01 +0000 2018").isoformat() == "2018-11-11T05:54:01+00:00"
    assert parse_when("2013-03-01").isoformat() == "2013-03-01T00:00:00+00:00"
    assert parse_when(12) is None


def test_split_specs_are_validated_and_recorded():
    assert parse_split({}).as_record() == {"kind": "random", "fraction": 0.2}
    group = parse_split({"kind": "group", "field": "event", "values": ["b", "a", "a"]})
    assert group.as_record() == {"kind": "group", "field": "event", "values": ["a", "b"]}
    assert parse_split({"kind": "date", "before": "2013-03-01"}).as_record() == {
        "kind": "date", "field": "created_at", "before": "2013-03-01"}
    with pytest.raises(ValidationError, match="needs `field`"):
        parse_split({"kind": "group", "values": ["a"]})
    with pytest.raises(ValidationError, match="needs `before`"):
        parse_split({"kind": "date"})
    with pytest.raises(ValidationError):
        parse_split({"kind": "crossval"})


def test_signatures_tell_comparable_splits_apart():
    random_a = split_record_of({"validation_fraction": 0.2})  # a version from before splits
    random_b = {"kind": "random", "fraction": 0.2}
    group = {"kind": "group", "field": "event", "values": ["boston"]}
    other_group = {"kind": "group", "field": "event", "values": ["sandy"]}
    assert split_signature(random_a) == split_signature(random_b)
    assert split_signature(group) != split_signature(random_b)
    assert split_signature(group) != split_signature(other_group)
    assert describe_split(group) == "held-out event in [boston]"
    assert describe_split(random_b) == "random stratified 20%"


def test_stratified_folds_deal_each_stratum_round_robin():
    import numpy as np

    from models_zoo.splits import stratified_folds

    keys = ["pos"] * 3 + ["neg"] * 12
    folds = stratified_folds(keys, 5, np.random.default_rng(0))
    assert sorted(i for f in folds for i in f) == list(range(15))
    assert [len(f) for f in folds] == [3, 3, 3, 3, 3]
    # 3 positives reach 3 different folds; the 12 negatives continue round-robin from there.
    assert sorted(sum(1 for i in f if keys[i] == "pos") for f in folds) == [0, 0, 1, 1, 1]
    assert folds == stratified_folds(keys, 5, np.random.default_rng(0))
    assert len(stratified_folds(["a", "b"], 5, np.random.default_rng(0))) == 2


def test_group_folds_leave_one_group_out_when_there_are_few_groups():
    import numpy as np

    from models_zoo.splits import group_folds

    groups = ["x", "y", "x", "z", 3, "y"]
    keys = ["p", "n", "n", "p", "n", "p"]
    folds, n_groups, note = group_folds(groups, keys, 5, np.random.default_rng(0))
    # One fold per group, in group-name order ("3" < "x" < "y" < "z"); values compared as text.
    assert folds == [[4], [0, 2], [1, 5], [3]]
    assert (n_groups, note) == (4, "")


def test_group_folds_merge_groups_beyond_k_largest_first_into_the_smallest_fold():
    import numpy as np

    from models_zoo.splits import MISSING_GROUP, group_folds

    groups = ["a", "a", "b", "c", "c", "c", "d", None, "e", "e"]
    keys = ["n"] * 10
    folds, n_groups, note = group_folds(groups, keys, 3, np.random.default_rng(0))
    # Sizes: c 3, a 2, e 2, then (missing) 1, b 1, d 1 (name order: "(" < "b" < "d").
    # c -> fold 0 (3); a -> fold 1 (2); e -> fold 2 (2); (missing) -> fold 1 (3);
    # b -> fold 2 (3); d -> fold 0 (4, all tied at 3, lowest fold).
    assert folds == [[3, 4, 5, 6], [0, 1, 7], [2, 8, 9]]
    assert (n_groups, note) == (6, "")
    assert MISSING_GROUP == "(missing)"
    # Deterministic: the generator plays no part when there are groups.
    assert group_folds(groups, keys, 3, np.random.default_rng(99))[0] == folds


def test_group_folds_fall_back_to_stratified_folds_under_two_groups():
    import numpy as np
    import pytest

    from models_zoo.splits import group_folds, stratified_folds

    keys = ["pos"] * 3 + ["neg"] * 12
    for groups, why in (([None] * 15, "no training example has a value of the group field"),
                        (["x"] * 14 + [""], "one group only ('x')")):
        folds, n_groups, note = group_folds(groups, keys, 5, np.random.default_rng(7))
        assert folds == stratified_folds(keys, 5, np.random.default_rng(7))
        assert n_groups == 0
        assert note.startswith("group cross-validation fell back to 5-fold stratified cross-validation: ")
        assert why in note
    with pytest.raises(ValueError, match="at least 2 folds"):
        group_folds(["a", "b"], ["n", "n"], 1, np.random.default_rng(0))
