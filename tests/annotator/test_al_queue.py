"""The active-learning queue in PostgreSQL: stored scores from the current version's predictions,
claim order, overlap k and never-twice with two annotators, the reason shown."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotator.models import Example, Membership, Role
from annotator.services import queue
from annotator.services.projects import ProjectRuleError, update_project
from models_zoo.models import ModelVersion, Prediction
from models_zoo.services.queue_scores import rescore_project, why_picked
from tests.api.factories import make_example
from tests.conftest import make_project, make_user

pytestmark = pytest.mark.django_db


def version_with_scores(project, scores_by_example, current=True, labels=("HS",)):
    version = ModelVersion.objects.create(
        project=project, backend="embedding_head", artifact_dir="/nonexistent",
        labels=list(labels), is_current=current,
    )
    Prediction.objects.bulk_create(
        Prediction(example=e, model_version=version, scores=dict(zip(labels, s, strict=True)))
        for e, s in scores_by_example
    )
    return version


@pytest.fixture
def binary(owner):
    project = make_project(owner, task_type="binary", labels=("HS",), queue_strategy="margin")
    # Probability of HS: index 2 (0.52) is the most unsure, then 4 (0.40), 1 (0.80) ...
    probs = [0.97, 0.80, 0.52, 0.05, 0.40]
    examples = [make_example(project, f"tweet number {i}") for i in range(len(probs))]
    version_with_scores(project, [(e, [p]) for e, p in zip(examples, probs, strict=True)])
    return project, examples


def test_rescore_stores_margin_priorities_and_the_claim_follows_them(binary, owner):
    project, examples = binary
    assert rescore_project(project.pk) == 5
    stored = dict(Example.objects.filter(project=project).values_list("id", "al_score"))
    assert stored[examples[2].pk] == pytest.approx(0.96)
    assert stored[examples[0].pk] == pytest.approx(0.06)
    order = [queue.next_example(project, owner) for _ in range(1)]
    assert order[0].pk == examples[2].pk
    # Finish it and the next one is the second most unsure.
    queue.touch(owner, order[0], status="done")
    assert queue.next_example(project, owner).pk == examples[4].pk


def test_the_claim_is_one_ordered_query_on_the_score_index(binary, owner):
    project, _ = binary
    rescore_project(project.pk)
    strategy = queue.strategy_for(project)
    assert strategy.order_by() == ("-al_score", "-queue_key")
    with CaptureQueriesContext(connection) as ctx:
        queue._claim(project, owner)
    selects = [q["sql"] for q in ctx.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(selects) == 1
    assert '"al_score" DESC' in selects[0]


def test_unscored_examples_come_last(binary, owner):
    project, examples = binary
    rescore_project(project.pk)
    late = make_example(project, "imported after the promotion")
    assert Example.objects.get(pk=late.pk).al_score == -1.0
    seen = []
    for _ in range(6):
        e = queue.next_example(project, owner)
        seen.append(e.pk)
        queue.touch(owner, e, status="done")
    assert seen[-1] == late.pk


def test_two_annotators_with_overlap_two_get_the_same_best_then_never_twice(binary, owner):
    project, examples = binary
    project.overlap = 2
    project.save()
    other = make_user("second")
    Membership.objects.create(user=other, project=project, role=Role.ANNOTATOR)
    rescore_project(project.pk)
    first_a = queue.next_example(project, owner)
    first_b = queue.next_example(project, other)
    assert first_a.pk == first_b.pk == examples[2].pk
    third = make_user("third")
    Membership.objects.create(user=third, project=project, role=Role.ANNOTATOR)
    # k = 2 reached: the third annotator gets the next most unsure instead.
    assert queue.next_example(project, third).pk == examples[4].pk
    handed = {u.pk: set() for u in (owner, other, third)}
    for user in (owner, other, third):
        while (e := queue.next_example(project, user)) is not None:
            assert e.pk not in handed[user.pk]
            handed[user.pk].add(e.pk)
            queue.touch(user, e, status="done")
    counts = Example.objects.filter(project=project).values_list("assigned_count", flat=True)
    assert max(counts) == 2 and sum(counts) == 10


def test_likely_positive_orders_by_the_label_probability_and_says_so(owner):
    project = make_project(owner, labels=("HS", "TR"), queue_strategy="likely_positive",
                           queue_label="TR")
    examples = [make_example(project, f"t{i}") for i in range(3)]
    version_with_scores(project, [(examples[0], [0.9, 0.2]), (examples[1], [0.1, 0.91]),
                                  (examples[2], [0.5, 0.5])], labels=("HS", "TR"))
    rescore_project(project.pk)
    got = queue.next_example(project, owner)
    assert got.pk == examples[1].pk
    assert why_picked(project, got)["text"] == "likely positive for TR: 0.91"


def test_the_reason_names_the_uncertainty(binary, owner):
    project, examples = binary
    rescore_project(project.pk)
    why = why_picked(project, queue.next_example(project, owner))
    assert why == {"reason": "model unsure", "score": 0.96, "text": "model unsure: 0.96"}


def test_no_current_version_leaves_everything_unscored(binary):
    project, _ = binary
    rescore_project(project.pk)
    ModelVersion.objects.filter(project=project).update(is_current=False)
    assert rescore_project(project.pk) == 0
    assert set(Example.objects.filter(project=project).values_list("al_score", flat=True)) == {-1.0}


def test_settings_reject_a_queue_label_that_is_not_a_label(binary):
    project, _ = binary
    with pytest.raises(ProjectRuleError, match="unknown queue_label"):
        update_project(project, queue_label="XX")
    with pytest.raises(ProjectRuleError, match="needs a queue_label"):
        update_project(project, queue_strategy="likely_positive")
    update_project(project, queue_strategy="likely_positive", queue_label="HS")
    assert project.queue_label == "HS"


def test_margin_diverse_lifts_one_example_per_cluster_from_the_stored_vectors(
    owner, monkeypatch, settings, tmp_path
):
    from models_zoo.services import queue_scores
    from tests.annotator.mining_store import store_vectors

    monkeypatch.setattr(queue_scores, "DIVERSE_BATCH", 2)
    monkeypatch.setattr(queue_scores, "DIVERSE_M", 3)
    project = make_project(owner, task_type="binary", labels=("HS",), queue_strategy="margin_diverse")
    # Four equally unsure near-duplicates, two unsure in another direction, sure ones elsewhere.
    probs = [0.50, 0.51, 0.49, 0.50, 0.52, 0.48, 0.99, 0.01]
    vectors = [[1, 0], [1, 0.01], [0.99, 0], [1, 0.02], [0, 1], [0.01, 1], [-1, 0], [0, -1]]
    examples = [make_example(project, f"diverse {i}") for i in range(len(probs))]
    version_with_scores(project, [(e, [p]) for e, p in zip(examples, probs, strict=True)])
    store_vectors(project, examples, vectors)
    rescore_project(project.pk)
    first, second = queue.next_example(project, owner), None
    queue.touch(owner, first, status="done")
    second = queue.next_example(project, owner)
    groups = {"dup" if examples.index(e) < 4 else "other" for e in (first, second)}
    assert groups == {"dup", "other"}
    assert why_picked(project, first)["reason"] == "model unsure (diverse pick)"


def test_a_spans_project_hands_out_the_least_confidently_tagged_tweet_first(owner):
    project = make_project(owner, task_type="spans", labels=("LOC",), queue_strategy="least_confidence")
    confidences = [0.95, 0.41, 0.70, None]  # None: a row stored before confidences were
    examples = [make_example(project, f"tweet in place {i}") for i in range(len(confidences))]
    version = ModelVersion.objects.create(
        project=project, backend="span_tagger", artifact_dir="/nonexistent", labels=["LOC"],
        is_current=True,
    )
    Prediction.objects.bulk_create(
        Prediction(example=e, model_version=version, scores={"LOC": 0.5}, confidence=c)
        for e, c in zip(examples, confidences, strict=True)
    )

    assert rescore_project(project.pk) == 3
    stored = dict(Example.objects.filter(project=project).values_list("id", "al_score"))
    assert stored[examples[1].pk] == pytest.approx(0.59)
    assert stored[examples[3].pk] == -1.0  # unscored: handed out last
    first = queue.next_example(project, owner)
    assert first.pk == examples[1].pk
    queue.touch(owner, first, status="done")
    assert queue.next_example(project, owner).pk == examples[2].pk
