"""annotator.services.adjudication: disagreements, adjudicate, and adjudicated gold in training."""
from __future__ import annotations

import pytest

from annotator.models import Annotation, AnnotationSource, Membership, Role
from annotator.services.adjudication import (
    adjudicate,
    disagreement_for,
    disagreement_ids,
    next_disagreement,
)
from annotator.services.annotations import AnnotationInvalid, save_annotation
from models_zoo.services.datasets import build_dataset, gold_examples
from tests.api.factories import annotate, make_example
from tests.conftest import make_project, make_user


@pytest.fixture
def third(project):
    user = make_user("third")
    Membership.objects.create(user=user, project=project, role=Role.ANNOTATOR)
    return user


def test_only_examples_whose_human_votes_differ_are_disagreements(project, owner, annotator_user):
    agree = make_example(project, "both say HS")
    differ = make_example(project, "they differ")
    alone = make_example(project, "one vote only")
    annotate(agree, owner, ["HS"])
    annotate(agree, annotator_user, ["HS"])
    annotate(differ, owner, ["HS"])
    annotate(differ, annotator_user, ["HS", "TR"])
    annotate(alone, owner, ["AG"])
    # An import disagreeing with a human is not an annotator disagreement.
    annotate(alone, None, ["TR"], source="import")
    assert disagreement_ids(project) == [differ.pk]
    adjudicate(user=owner, example=differ, labels=["HS"])
    assert disagreement_ids(project) == []
    assert disagreement_ids(project, include_adjudicated=True) == [differ.pk]
    assert next_disagreement(project) is None


def test_the_majority_is_the_starting_point_and_votes_are_named(project, owner, annotator_user, third):
    example = make_example(project, "three votes")
    annotate(example, owner, ["HS", "AG"])
    annotate(example, annotator_user, ["HS"])
    annotate(example, third, ["TR"])
    d = disagreement_for(project, example)
    assert [v.username for v in d.votes] == ["owner", "annotator", "third"]
    assert d.majority_labels == ["HS"]
    assert d.adjudicated is None


def test_adjudication_wins_in_training_over_the_majority_vote(project, owner, annotator_user, third):
    example = make_example(project, "majority says HS, the admin says TR")
    annotate(example, owner, ["HS"])
    annotate(example, annotator_user, ["HS"])
    annotate(example, third, ["TR"])
    [before] = gold_examples(project)
    assert before.labels == ["HS"]
    adjudicate(user=owner, example=example, labels=["TR"])
    [after] = gold_examples(project)
    assert after.labels == ["TR"]
    # The votes are still there (and still the owner's own vote), beside the adjudication.
    rows = Annotation.objects.filter(example=example)
    assert sorted(rows.values_list("source", flat=True)) == ["adjudicated", "human", "human", "human"]
    assert rows.get(user=owner, source="human").labels == ["HS"]
    # Re-adjudicating replaces the one adjudication.
    adjudicate(user=owner, example=example, labels=["AG", "TR"])
    assert rows.filter(source="adjudicated").count() == 1
    assert gold_examples(project)[0].labels == ["AG", "TR"]


def test_the_training_set_carries_the_adjudicated_labels(project, owner, annotator_user):
    texts = [f"example number {i} about floods" for i in range(8)]
    examples = [make_example(project, t) for t in texts]
    for e in examples:
        annotate(e, owner, ["HS"])
        annotate(e, annotator_user, ["AG"])  # a tie: the newest vote (AG) would win
    final = {}
    for i, e in enumerate(examples):
        final[e.text] = ["TR"] if i % 2 else ["HS"]
        adjudicate(user=owner, example=e, labels=final[e.text])
    data = build_dataset(project, seed=0)
    items = data.train + data.validation
    assert len(items) == 8
    assert {item.text: item.labels for item in items} == final


def test_spans_adjudication_wins_too(owner, annotator_user):
    project = make_project(owner, task_type="spans", labels=("PER", "LOC"))
    example = make_example(project, "Ana went to Lisbon")
    annotate(example, owner, spans=[{"start": 0, "end": 3, "label": "PER"}])
    annotate(example, annotator_user, spans=[{"start": 12, "end": 18, "label": "LOC"}])
    assert disagreement_ids(project) == [example.pk]
    final = [{"start": 0, "end": 3, "label": "PER"}, {"start": 12, "end": 18, "label": "LOC"}]
    adjudicate(user=owner, example=example, spans=final)
    [gold] = gold_examples(project)
    assert gold.spans == final


def test_adjudication_is_validated_like_an_annotation(project, owner):
    example = make_example(project, "bad labels")
    with pytest.raises(AnnotationInvalid, match="unknown label 'XX'") as err:
        adjudicate(user=owner, example=example, labels=["XX"])
    assert err.value.field == "labels"


def test_an_admin_who_adjudicated_can_still_change_their_own_vote(project, owner, annotator_user):
    example = make_example(project, "the admin voted and adjudicated")
    save_annotation(user=owner, example=example, labels=["HS"])
    annotate(example, annotator_user, ["TR"])
    adjudicate(user=owner, example=example, labels=["AG"])
    save_annotation(user=owner, example=example, labels=["TR"])
    assert Annotation.objects.get(example=example, user=owner, source="human").labels == ["TR"]
    assert (
        Annotation.objects.get(example=example, source=AnnotationSource.ADJUDICATED).labels == ["AG"]
    )
