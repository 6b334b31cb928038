"""The annotation queue (annotator.services.queue) and its strategies."""
from __future__ import annotations

import threading

import pytest
from django.db import connection

from annotator.models import Assignment, AssignmentStatus, Example, Membership, Role
from annotator.services import queue
from annotator.services.annotations import save_annotation
from annotator.services.queue_strategies import (
    STRATEGIES,
    QueueStrategy,
    get_strategy,
    register_strategy,
)
from tests.conftest import make_user
from tests.web.helpers import add_examples


def label(user, example, labels=("HS",)):
    save_annotation(user=user, example=example, labels=list(labels))


@pytest.mark.django_db
def test_it_hands_out_examples_in_the_strategy_order(project, annotator_user):
    _one, _two, _three = add_examples(project, ["one", "two", "three"])
    got = []
    for _ in range(3):
        ex = queue.next_example(project, annotator_user)
        got.append(ex.text)
        label(annotator_user, ex)
    assert got == ["one", "two", "three"]
    assert queue.next_example(project, annotator_user) is None


@pytest.mark.django_db
def test_it_resumes_an_unfinished_example(project, annotator_user):
    add_examples(project, ["one", "two"])
    first = queue.next_example(project, annotator_user)
    assert queue.next_example(project, annotator_user) == first
    assert Assignment.objects.filter(user=annotator_user).count() == 1
    assert Example.objects.get(pk=first.pk).assigned_count == 1


@pytest.mark.django_db
def test_overlap_one_gives_each_example_to_one_annotator(project, owner, annotator_user):
    add_examples(project, ["one", "two"])
    a = queue.next_example(project, owner)
    b = queue.next_example(project, annotator_user)
    assert a != b
    label(owner, a)
    label(annotator_user, b)
    assert queue.next_example(project, owner) is None
    assert queue.next_example(project, annotator_user) is None


@pytest.mark.django_db
def test_overlap_k_gives_each_example_to_k_different_annotators(project, owner, annotator_user):
    project.overlap = 2
    project.save()
    third = make_user("third")
    Membership.objects.create(user=third, project=project, role=Role.ANNOTATOR)
    one, two = add_examples(project, ["one", "two"])
    a = queue.next_example(project, owner)
    # Started examples are completed first, so the second annotator gets the same one.
    b = queue.next_example(project, annotator_user)
    assert a == b == one
    c = queue.next_example(project, third)
    assert c == two
    label(owner, a)
    label(annotator_user, b)
    assert queue.next_example(project, owner) == two
    assert queue.next_example(project, annotator_user) is None  # two already has 2 annotators
    counts = dict(Example.objects.values_list("text", "assigned_count"))
    assert counts == {"one": 2, "two": 2}


@pytest.mark.django_db
def test_it_never_gives_the_same_example_twice_to_one_annotator(project, annotator_user):
    project.overlap = 3
    project.save()
    (one,) = add_examples(project, ["one"])
    label(annotator_user, queue.next_example(project, annotator_user))
    assert queue.next_example(project, annotator_user) is None
    assert Assignment.objects.filter(example=one, user=annotator_user).count() == 1


@pytest.mark.django_db
def test_skipped_examples_come_back_only_when_all_else_is_done(project, annotator_user):
    one, two = add_examples(project, ["one", "two"])
    ex = queue.next_example(project, annotator_user)
    assert ex == one
    assert queue.skip(project, annotator_user, ex) is True
    assert Assignment.objects.get(example=one).status == AssignmentStatus.SKIPPED
    nxt = queue.next_example(project, annotator_user)
    assert nxt == two
    label(annotator_user, nxt)
    assert queue.next_example(project, annotator_user) == one
    assert Assignment.objects.get(example=one).status == AssignmentStatus.ASSIGNED


@pytest.mark.django_db
def test_skip_of_an_example_not_handed_to_the_user_does_nothing(project, annotator_user, owner):
    (one,) = add_examples(project, ["one"])
    queue.next_example(project, owner)
    assert queue.skip(project, annotator_user, one) is False


@pytest.mark.django_db
def test_other_projects_do_not_leak_into_the_queue(project, owner, annotator_user):
    from tests.conftest import make_project

    other = make_project(owner, "binary", labels=("X",))
    add_examples(other, ["elsewhere"])
    add_examples(project, ["here"])
    ex = queue.next_example(project, annotator_user)
    assert ex.text == "here" and ex.project_id == project.pk


@pytest.mark.django_db
def test_the_sequential_strategy_follows_import_order(project, annotator_user):
    project.queue_strategy = "sequential"
    project.save()
    # queue_key order would be the reverse of creation order here.
    for i, t in enumerate(["first", "second"]):
        add_examples(project, [t])[0].__class__.objects.filter(text=t).update(queue_key=i)
    assert queue.next_example(project, annotator_user).text == "first"


def test_an_unknown_strategy_lists_the_valid_names():
    with pytest.raises(ValueError, match="available: .*random.*sequential"):
        get_strategy("active-magic")


def test_strategies_can_be_registered():
    @register_strategy
    class Newest(QueueStrategy):
        name = "newest-test"
        order = ("-id",)

    try:
        assert get_strategy("newest-test").order_by() == ("-id",)
        assert get_strategy("").name == "random"
    finally:
        STRATEGIES.pop("newest-test")


def _run_in_threads(fn, n: int) -> list:
    results: list = [None] * n
    barrier = threading.Barrier(n)

    def work(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn(i)
        finally:
            connection.close()  # each thread has its own connection: release it

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_never_share_a_slot(project):
    users = [make_user(f"ann{i}") for i in range(6)]
    for u in users:
        Membership.objects.create(user=u, project=project, role=Role.ANNOTATOR)
    add_examples(project, [f"tweet {i}" for i in range(4)])

    def claim(i):
        ex = queue.next_example(project, users[i])
        return ex.pk if ex else None

    got = _run_in_threads(claim, 6)
    claimed = [g for g in got if g is not None]
    assert len(claimed) == 4 and len(set(claimed)) == 4  # overlap 1: four slots, no sharing
    assert got.count(None) == 2
    assert set(Example.objects.values_list("assigned_count", flat=True)) == {1}
    assert Assignment.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_respect_overlap_k(project):
    project.overlap = 2
    project.save()
    users = [make_user(f"ann{i}") for i in range(5)]
    add_examples(project, ["a", "b"])
    got = _run_in_threads(lambda i: queue.next_example(project, users[i]), 5)
    assert sum(1 for g in got if g is not None) == 4
    per_example = {e.text: e.assigned_count for e in Example.objects.all()}
    assert per_example == {"a": 2, "b": 2}
    for ex in Example.objects.all():
        assert ex.assignments.values("user").distinct().count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_annotators_labelling_the_same_example_at_once_keep_both_annotations(project, owner,
                                                                                annotator_user):
    from django.test import Client
    from django.urls import reverse

    from annotator.models import Annotation

    project.overlap = 2
    project.save()
    (one,) = add_examples(project, ["shared tweet"])
    users = [owner, annotator_user]
    clients = []
    for u in users:
        c = Client()
        c.force_login(u)
        c.get(reverse("annotate", args=[project.pk]))
        clients.append(c)
    answers = [["HS"], ["TR", "AG"]]

    def submit(i):
        for _ in range(5):  # repeated submits by both, interleaved
            r = clients[i].post(reverse("annotate-example", args=[project.pk, one.pk]),
                                {"labels": answers[i]})
            assert r.status_code == 302
        return True

    assert _run_in_threads(submit, 2) == [True, True]
    assert Annotation.objects.get(example=one, user=owner).labels == ["HS"]
    assert Annotation.objects.get(example=one, user=annotator_user).labels == ["TR", "AG"]
    assert Annotation.objects.filter(example=one).count() == 2


@pytest.mark.django_db
def test_an_example_the_user_already_labelled_elsewhere_is_not_handed_to_them(project, annotator_user):
    one, two = add_examples(project, ["one", "two"])
    label(annotator_user, one)  # e.g. through the REST API, without an assignment
    assert queue.next_example(project, annotator_user) == two
