"""annotator.services.annotations: validation per task type, upsert, assignments, concurrency."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from annotator.models import (
    Annotation,
    AnnotationSource,
    Assignment,
    AssignmentStatus,
    Example,
    Membership,
    Role,
)
from annotator.normalize import content_hash
from annotator.services.annotations import (
    AnnotationInvalid,
    annotation_saved,
    delete_annotation,
    save_annotation,
    save_annotation_result,
)
from tests.conftest import make_project, make_user


def make_example(project, text: str = "flood waters rising in the city centre") -> Example:
    return Example.objects.create(
        project=project, text=text, normalized_text=text, content_hash=content_hash(text)
    )


@pytest.fixture
def example(project) -> Example:
    return make_example(project)


# --- classification --------------------------------------------------------------------------


def test_it_saves_a_multilabel_annotation_in_label_order(project, example, annotator_user):
    ann = save_annotation(user=annotator_user, example=example, labels=["AG", "HS"])
    ann.refresh_from_db()
    assert ann.labels == ["HS", "AG"]
    assert ann.spans == []
    assert ann.source == AnnotationSource.HUMAN
    assert ann.user == annotator_user


def test_it_accepts_an_empty_multilabel_annotation(project, example, annotator_user):
    ann = save_annotation(user=annotator_user, example=example, labels=[])
    assert Annotation.objects.get(pk=ann.pk).labels == []


def test_it_rejects_unknown_labels_naming_them(project, example, annotator_user):
    with pytest.raises(AnnotationInvalid) as err:
        save_annotation(user=annotator_user, example=example, labels=["HS", "NOPE"])
    assert err.value.field == "labels"
    assert "NOPE" in str(err.value) and "HS, TR, AG" in str(err.value)
    assert not Annotation.objects.exists()


def test_it_rejects_labels_given_twice(project, example, annotator_user):
    with pytest.raises(AnnotationInvalid, match="twice"):
        save_annotation(user=annotator_user, example=example, labels=["HS", "HS"])


def test_it_rejects_labels_that_are_not_a_list(project, example, annotator_user):
    with pytest.raises(AnnotationInvalid, match="list"):
        save_annotation(user=annotator_user, example=example, labels="HS")


def test_a_singlelabel_project_needs_exactly_one_label(owner, annotator_user):
    project = make_project(owner, "singlelabel", ("pos", "neg"))
    ex = make_example(project)
    for bad in ([], ["pos", "neg"]):
        with pytest.raises(AnnotationInvalid, match="exactly one"):
            save_annotation(user=annotator_user, example=ex, labels=bad)
    assert save_annotation(user=annotator_user, example=ex, labels=["neg"]).labels == ["neg"]


def test_a_binary_project_takes_reject_or_accept(owner, annotator_user):
    project = make_project(owner, "binary", ("violence",))
    ex = make_example(project)
    assert save_annotation(user=annotator_user, example=ex, labels=[]).labels == []
    assert save_annotation(user=annotator_user, example=ex, labels=["violence"]).labels == [
        "violence"
    ]
    assert Annotation.objects.filter(example=ex).count() == 1


def test_a_classification_project_rejects_spans(project, example, annotator_user):
    with pytest.raises(AnnotationInvalid) as err:
        save_annotation(
            user=annotator_user, example=example, spans=[{"start": 0, "end": 5, "label": "HS"}]
        )
    assert err.value.field == "spans"


# --- spans -----------------------------------------------------------------------------------


@pytest.fixture
def span_project(owner):
    return make_project(owner, "spans", ("LOC", "PER"))


def test_it_saves_spans_sorted(span_project, annotator_user):
    ex = make_example(span_project, "Maria saw floods in Lisbon")
    spans = [{"start": 20, "end": 26, "label": "LOC"}, {"start": 0, "end": 5, "label": "PER"}]
    ann = save_annotation(user=annotator_user, example=ex, spans=spans)
    ann.refresh_from_db()
    assert ann.spans == [
        {"start": 0, "end": 5, "label": "PER"},
        {"start": 20, "end": 26, "label": "LOC"},
    ]
    assert ann.labels == []


@pytest.mark.parametrize(
    "span, message",
    [
        ({"start": 5, "end": 5, "label": "LOC"}, "start < end"),
        ({"start": -1, "end": 3, "label": "LOC"}, "start < end"),
        ({"start": 0, "end": 999, "label": "LOC"}, "text length"),
        ({"start": 0, "end": 3, "label": "ORG"}, "unknown label 'ORG'"),
        ({"start": "0", "end": 3, "label": "LOC"}, "start must be an integer"),
        ({"start": True, "end": 3, "label": "LOC"}, "start must be an integer"),
        ({"start": 0, "end": 3, "label": "LOC", "x": 1}, "unknown keys: x"),
    ],
)
def test_it_rejects_bad_spans_naming_the_problem(span_project, annotator_user, span, message):
    ex = make_example(span_project, "Maria saw floods in Lisbon")
    with pytest.raises(AnnotationInvalid, match=message) as err:
        save_annotation(user=annotator_user, example=ex, spans=[span])
    assert err.value.field == "spans"
    assert "spans[0]" in str(err.value)
    assert not Annotation.objects.exists()


def test_it_rejects_overlapping_spans_unless_the_project_allows_them(span_project, annotator_user):
    ex = make_example(span_project, "Maria saw floods in Lisbon")
    spans = [{"start": 0, "end": 5, "label": "PER"}, {"start": 3, "end": 9, "label": "LOC"}]
    with pytest.raises(AnnotationInvalid, match="overlap"):
        save_annotation(user=annotator_user, example=ex, spans=spans)
    span_project.allow_overlapping_spans = True
    span_project.save()
    ex.refresh_from_db()
    assert len(save_annotation(user=annotator_user, example=ex, spans=spans).spans) == 2


def test_it_rejects_the_same_span_twice(span_project, annotator_user):
    span_project.allow_overlapping_spans = True
    span_project.save()
    ex = make_example(span_project, "Maria saw floods in Lisbon")
    span = {"start": 0, "end": 5, "label": "PER"}
    with pytest.raises(AnnotationInvalid, match="twice"):
        save_annotation(user=annotator_user, example=ex, spans=[span, dict(span)])


def test_a_spans_project_rejects_document_labels(span_project, annotator_user):
    ex = make_example(span_project)
    with pytest.raises(AnnotationInvalid) as err:
        save_annotation(user=annotator_user, example=ex, labels=["LOC"])
    assert err.value.field == "labels"


# --- upsert, assignments, undo ---------------------------------------------------------------


def test_saving_twice_replaces_the_one_annotation(project, example, annotator_user):
    first = save_annotation_result(user=annotator_user, example=example, labels=["HS"])
    second = save_annotation_result(user=annotator_user, example=example, labels=["TR"])
    assert first.created is True and second.created is False
    assert first.annotation.pk == second.annotation.pk
    assert list(Annotation.objects.values_list("labels", flat=True)) == [["TR"]]


def test_annotations_of_different_users_are_kept_apart(project, example, owner, annotator_user):
    save_annotation(user=annotator_user, example=example, labels=["HS"])
    save_annotation(user=owner, example=example, labels=["AG"])
    by_user = dict(Annotation.objects.values_list("user__username", "labels"))
    assert by_user == {"annotator": ["HS"], "owner": ["AG"]}


def test_it_marks_the_users_assignment_done(project, example, owner, annotator_user):
    mine = Assignment.objects.create(example=example, user=annotator_user)
    theirs = Assignment.objects.create(example=example, user=owner)
    save_annotation(user=annotator_user, example=example, labels=["HS"])
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == AssignmentStatus.DONE
    assert theirs.status == AssignmentStatus.ASSIGNED


def test_an_invalid_save_leaves_the_assignment_alone(project, example, annotator_user):
    assignment = Assignment.objects.create(example=example, user=annotator_user)
    with pytest.raises(AnnotationInvalid):
        save_annotation(user=annotator_user, example=example, labels=["??"])
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ASSIGNED


def test_delete_removes_only_the_users_annotation_and_reassigns(
    project, example, owner, annotator_user
):
    assignment = Assignment.objects.create(example=example, user=annotator_user)
    save_annotation(user=annotator_user, example=example, labels=["HS"])
    save_annotation(user=owner, example=example, labels=["AG"])
    delete_annotation(user=annotator_user, example=example)
    assert list(Annotation.objects.values_list("user__username", flat=True)) == ["owner"]
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ASSIGNED


def test_delete_without_an_annotation_is_a_no_op(project, example, annotator_user):
    delete_annotation(user=annotator_user, example=example)
    assert not Annotation.objects.exists()


def test_it_rejects_the_import_source(project, example, annotator_user):
    with pytest.raises(AnnotationInvalid) as err:
        save_annotation(user=annotator_user, example=example, labels=["HS"], source="import")
    assert err.value.field == "source"


def test_it_announces_saved_annotations_after_commit(
    project, example, annotator_user, django_capture_on_commit_callbacks
):
    received = []

    def listener(sender, annotation, created, user, **kwargs):
        received.append((annotation.pk, created, user.username))

    annotation_saved.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ann = save_annotation(user=annotator_user, example=example, labels=["HS"])
    finally:
        annotation_saved.disconnect(listener)
    assert received == [(ann.pk, True, "annotator")]


# --- concurrency (real transactions, one connection per thread) -------------------------------


def _run_concurrently(calls: list) -> list[BaseException]:
    """Start every call at the same instant in its own thread (own DB connection)."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call):
        try:
            barrier.wait()
            call()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_annotators_saving_at_once_never_overwrite_each_other(owner):
    project = make_project(owner)
    ex = make_example(project)
    users = [make_user(f"ann{i}") for i in range(4)]
    for u in users:
        Membership.objects.create(user=u, project=project, role=Role.ANNOTATOR)
    for _ in range(5):
        errors = _run_concurrently(
            [
                (lambda u=u, lab=lab: save_annotation(user=u, example=ex, labels=[lab]))
                for u, lab in zip(users, ["HS", "TR", "AG", "HS"], strict=True)
            ]
        )
        assert errors == []
    rows = dict(Annotation.objects.filter(example=ex).values_list("user__username", "labels"))
    assert rows == {"ann0": ["HS"], "ann1": ["TR"], "ann2": ["AG"], "ann3": ["HS"]}


@pytest.mark.django_db(transaction=True)
def test_one_user_saving_twice_at_once_keeps_one_annotation(owner):
    project = make_project(owner)
    user = make_user("ann")
    Membership.objects.create(user=user, project=project, role=Role.ANNOTATOR)
    for i in range(5):
        ex = make_example(project, f"tweet number {i}")
        errors = _run_concurrently(
            [
                (lambda lab=lab, ex=ex: save_annotation(user=user, example=ex, labels=[lab]))
                for lab in ["HS", "TR", "AG"]
            ]
        )
        assert errors == []
        rows = list(
            Annotation.objects.filter(example=ex, user=user).values_list("labels", flat=True)
        )
        assert len(rows) == 1
        assert rows[0] in (["HS"], ["TR"], ["AG"])
