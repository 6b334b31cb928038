from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from annotator.models import Annotation, AnnotationSource
from models_zoo.services.datasets import (
    DatasetError,
    build_dataset,
    gold_examples,
    stratified_split,
)
from tests.conftest import make_project, make_user
from tests.models_zoo.services.helpers import add_example, annotate


def _annotate(example, user, labels, minutes_ago=0, source=AnnotationSource.HUMAN, spans=None):
    a = Annotation.objects.create(example=example, user=user, labels=labels, spans=spans or [], source=source)
    Annotation.objects.filter(pk=a.pk).update(updated_at=timezone.now() - timedelta(minutes=minutes_ago))
    return a


def test_majority_vote_per_label_decides_between_annotators(project, owner, annotator_user, viewer):
    example = add_example(project, "three people disagree")
    _annotate(example, owner, ["HS", "AG"], minutes_ago=3)
    _annotate(example, annotator_user, ["HS"], minutes_ago=2)
    _annotate(example, viewer, ["HS", "TR"], minutes_ago=1)
    [gold] = gold_examples(project)
    assert gold.labels == ["HS"]
    assert len(gold.annotation_ids) == 3


def test_a_tie_follows_the_most_recent_annotation(project, owner, annotator_user):
    example = add_example(project, "two people disagree")
    _annotate(example, owner, ["HS"], minutes_ago=10)
    _annotate(example, annotator_user, ["TR"], minutes_ago=1)
    [gold] = gold_examples(project)
    assert gold.labels == ["TR"]


def test_import_labels_count_only_without_a_human_annotation(project, owner):
    imported_only = add_example(project, "imported only")
    both = add_example(project, "imported and human")
    _annotate(imported_only, None, ["AG"], source=AnnotationSource.IMPORT)
    _annotate(both, None, ["AG"], source=AnnotationSource.IMPORT)
    _annotate(both, owner, ["TR"])
    golds = {g.example_id: g.labels for g in gold_examples(project)}
    assert golds == {imported_only.pk: ["AG"], both.pk: ["TR"]}


def test_model_suggestions_are_never_gold(project, owner):
    example = add_example(project, "only a model looked at it")
    _annotate(example, owner, ["HS"], source=AnnotationSource.MODEL)
    assert gold_examples(project) == []


def test_single_label_projects_take_the_plurality_label(owner, annotator_user):
    project = make_project(owner, "singlelabel", labels=("on", "off"))
    third = make_user("third")
    example = add_example(project, "plurality")
    _annotate(example, owner, ["off"], minutes_ago=3)
    _annotate(example, annotator_user, ["on"], minutes_ago=2)
    _annotate(example, third, ["off"], minutes_ago=1)
    [gold] = gold_examples(project)
    assert gold.labels == ["off"]


def test_span_projects_vote_per_span(owner, annotator_user):
    project = make_project(owner, "spans", labels=("LOC", "PER"))
    example = add_example(project, "Flooding in Calgary says Nenshi")
    calgary = {"start": 12, "end": 19, "label": "LOC"}
    nenshi = {"start": 25, "end": 31, "label": "PER"}
    _annotate(example, owner, [], spans=[calgary, nenshi], minutes_ago=5)
    _annotate(example, annotator_user, [], spans=[calgary], minutes_ago=1)
    [gold] = gold_examples(project)
    assert gold.spans == [calgary]


def test_the_split_is_stratified_and_reproducible_for_a_seed():
    keys = ["a"] * 50 + ["b"] * 30 + ["c"] * 5 + ["lonely"]
    train, val = stratified_split(keys, 0.2, np.random.default_rng(7))
    again = stratified_split(keys, 0.2, np.random.default_rng(7))
    other = stratified_split(keys, 0.2, np.random.default_rng(8))
    assert (train, val) == again
    assert val != other[1]
    by_key = {k: sum(1 for i in val if keys[i] == k) for k in set(keys)}
    assert by_key == {"a": 10, "b": 6, "c": 1, "lonely": 0}
    assert sorted(train + val) == list(range(len(keys)))


def test_build_dataset_records_a_snapshot_that_reproduces_the_split(project, owner):
    examples = annotate(project, owner, n=20)
    first = build_dataset(project, seed=5)
    second = build_dataset(project, seed=5)
    snap = first.snapshot
    assert snap == second.snapshot
    assert snap["seed"] == 5
    assert snap["counts"] == {"examples": 20, "train": 16, "validation": 4,
                              "per_label": {"AG": 10, "HS": 5, "TR": 5}}
    assert sorted(snap["train_example_ids"] + snap["validation_example_ids"]) == [e.pk for e in examples]
    assert len(snap["annotation_ids"]) == 20
    # Four label-set strata of five examples: one of each in validation.
    val_sets = sorted(tuple(i.labels) for i in first.validation)
    assert val_sets == [(), (), ("AG", "HS"), ("AG", "TR")]
    # Training text is the normalized text.
    assert all("#" in i.text for i in first.train)


def test_it_refuses_too_few_examples(project, owner):
    annotate(project, owner, n=3)
    with pytest.raises(DatasetError, match="at least 6 annotated examples"):
        build_dataset(project, seed=1)


def test_it_refuses_a_single_class(project, owner):
    for i in range(8):
        _annotate(add_example(project, f"all the same {i}"), owner, ["HS"])
    with pytest.raises(DatasetError, match="at least 2 classes"):
        build_dataset(project, seed=1)
