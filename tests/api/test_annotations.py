"""GET|POST|DELETE /api/v1/projects/{id}/examples/{eid}/annotations"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from annotator.models import Annotation, Assignment, AssignmentStatus, Membership, Role
from tests.api.factories import annotate, make_example
from tests.conftest import api_client_for, make_project, make_user


@pytest.fixture
def example(project):
    return make_example(project, "Flood warning for the coast")


def url(project, example, slash: str = "") -> str:
    return f"/api/v1/projects/{project.pk}/examples/{example.pk}/annotations{slash}"


def test_an_annotator_creates_then_replaces_their_annotation(
    project, example, annotator_api, annotator_user
):
    first = annotator_api.post(url(project, example), {"labels": ["HS", "AG"]}, format="json")
    assert first.status_code == 201, first.json()
    second = annotator_api.post(url(project, example), {"labels": ["TR"]}, format="json")
    assert second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    ann = Annotation.objects.get(example=example)
    assert (ann.user, ann.labels, ann.source) == (annotator_user, ["TR"], "human")


def test_admins_annotate_too(project, example, owner_api, owner):
    assert owner_api.post(url(project, example), {"labels": []}, format="json").status_code == 201
    assert Annotation.objects.get(example=example).user == owner


def test_viewers_cannot_annotate(project, example, viewer_api):
    assert (
        viewer_api.post(url(project, example), {"labels": ["HS"]}, format="json").status_code == 403
    )
    assert viewer_api.delete(url(project, example)).status_code == 403
    assert not Annotation.objects.exists()


def test_outsiders_get_404(project, example, outsider_api):
    assert outsider_api.get(url(project, example)).status_code == 404
    assert (
        outsider_api.post(url(project, example), {"labels": ["HS"]}, format="json").status_code
        == 404
    )
    assert outsider_api.delete(url(project, example)).status_code == 404
    assert not Annotation.objects.exists()


def test_the_trailing_slash_is_optional(project, example, annotator_api):
    assert (
        annotator_api.post(
            url(project, example, "/"), {"labels": ["HS"]}, format="json"
        ).status_code
        == 201
    )
    assert len(annotator_api.get(url(project, example, "/")).json()) == 1


def test_invalid_labels_are_400_naming_the_field(project, example, annotator_api):
    response = annotator_api.post(url(project, example), {"labels": ["NOPE"]}, format="json")
    assert response.status_code == 400
    assert "NOPE" in response.json()["labels"][0]
    assert not Annotation.objects.exists()


def test_a_spans_project_takes_character_offset_spans(owner, owner_api):
    project = make_project(owner, "spans", ("LOC", "PER"))
    ex = make_example(project, "Maria saw floods in Lisbon")
    good = owner_api.post(
        url(project, ex), {"spans": [{"start": 20, "end": 26, "label": "LOC"}]}, format="json"
    )
    assert good.status_code == 201, good.json()
    bad = owner_api.post(
        url(project, ex), {"spans": [{"start": 20, "end": 99, "label": "LOC"}]}, format="json"
    )
    assert bad.status_code == 400 and "spans[0]" in bad.json()["spans"][0]
    assert Annotation.objects.get(example=ex).spans == [{"start": 20, "end": 26, "label": "LOC"}]


def test_a_binary_project_takes_accept_or_reject(owner, owner_api):
    project = make_project(owner, "binary", ("violence",))
    ex = make_example(project, "a tweet")
    assert (
        owner_api.post(url(project, ex), {"labels": ["violence"]}, format="json").status_code == 201
    )
    assert owner_api.post(url(project, ex), {"labels": []}, format="json").status_code == 200
    assert Annotation.objects.get(example=ex).labels == []


def test_the_listing_hides_other_annotators_work_from_annotators(
    project, example, owner, annotator_user, annotator_api, owner_api, viewer_api
):
    annotate(example, owner, ["HS"])
    annotate(example, annotator_user, ["TR"])
    annotate(example, None, ["AG"], source="import")
    mine = annotator_api.get(url(project, example)).json()
    assert [(a["username"], a["source"]) for a in mine] == [
        ("annotator", "human"),
        (None, "import"),
    ]
    assert len(owner_api.get(url(project, example)).json()) == 3
    assert len(viewer_api.get(url(project, example)).json()) == 3


def test_saving_marks_the_assignment_done_and_undo_hands_it_back(
    project, example, annotator_user, annotator_api
):
    assignment = Assignment.objects.create(example=example, user=annotator_user)
    annotator_api.post(url(project, example), {"labels": ["HS"]}, format="json")
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.DONE
    assert annotator_api.delete(url(project, example)).status_code == 204
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ASSIGNED
    assert not Annotation.objects.exists()


def test_delete_removes_only_the_callers_annotation(project, example, owner, annotator_api):
    annotate(example, owner, ["HS"])
    assert annotator_api.delete(url(project, example)).status_code == 404
    assert Annotation.objects.get(example=example).user == owner


def test_an_example_of_another_project_is_404(project, owner, annotator_api):
    other = make_project(owner, "binary", ("x",))
    foreign = make_example(other, "elsewhere")
    response = annotator_api.post(
        f"/api/v1/projects/{project.pk}/examples/{foreign.pk}/annotations",
        {"labels": ["HS"]},
        format="json",
    )
    assert response.status_code == 404
    assert not Annotation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_by_two_annotators_and_twice_by_one_keep_every_annotation():
    owner = make_user("boss")
    project = make_project(owner)
    ex = make_example(project, "Flood warning for the coast")
    users = [make_user("a1"), make_user("a2")]
    for u in users:
        Membership.objects.create(user=u, project=project, role=Role.ANNOTATOR)
    clients = [api_client_for(u) for u in users]
    calls = [(clients[0], ["HS"]), (clients[0], ["HS"]), (clients[1], ["TR"]), (clients[1], ["TR"])]
    barrier = threading.Barrier(len(calls))
    statuses: list[int] = []

    def post(client, labels):
        try:
            barrier.wait()
            statuses.append(
                client.post(url(project, ex), {"labels": labels}, format="json").status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=call) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200, 200, 201, 201]
    rows = dict(Annotation.objects.filter(example=ex).values_list("user__username", "labels"))
    assert rows == {"a1": ["HS"], "a2": ["TR"]}
