"""GET|POST /api/v1/projects/{id}/labels/ and PATCH|DELETE .../labels/{lid}/"""

from __future__ import annotations

import pytest

from annotator.models import Annotation, Label
from tests.api.factories import annotate, make_example
from tests.conftest import make_project


def list_url(project) -> str:
    return f"/api/v1/projects/{project.pk}/labels/"


def detail_url(project, label) -> str:
    return f"/api/v1/projects/{project.pk}/labels/{label.pk}/"


def test_members_list_labels_in_order(project, annotator_api, viewer_api):
    for client in (annotator_api, viewer_api):
        body = client.get(list_url(project)).json()
        assert [(row["name"], row["shortcut"]) for row in body] == [
            ("HS", "q"),
            ("TR", "w"),
            ("AG", "e"),
        ]


def test_outsiders_get_404(project, outsider_api):
    label = project.labels.first()
    assert outsider_api.get(list_url(project)).status_code == 404
    assert outsider_api.post(list_url(project), {"name": "X"}, format="json").status_code == 404
    assert (
        outsider_api.patch(detail_url(project, label), {"name": "X"}, format="json").status_code
        == 404
    )
    assert outsider_api.delete(detail_url(project, label)).status_code == 404
    assert project.labels.count() == 3


def test_admins_add_a_label_with_a_free_shortcut(project, owner_api):
    response = owner_api.post(list_url(project), {"name": "OFF"}, format="json")
    assert response.status_code == 201, response.json()
    label = Label.objects.get(project=project, name="OFF")
    assert (label.shortcut, label.order) == ("1", 3)
    assert response.json()["id"] == label.pk


@pytest.mark.parametrize("who", ["annotator_api", "viewer_api"])
def test_non_admins_cannot_write_labels(project, who, request):
    client = request.getfixturevalue(who)
    label = project.labels.get(name="HS")
    assert client.post(list_url(project), {"name": "X"}, format="json").status_code == 403
    assert client.patch(detail_url(project, label), {"name": "X"}, format="json").status_code == 403
    assert client.delete(detail_url(project, label)).status_code == 403
    assert list(project.labels.values_list("name", flat=True)) == ["HS", "TR", "AG"]


def test_duplicate_names_and_shortcuts_conflict(project, owner_api):
    assert owner_api.post(list_url(project), {"name": "hs"}, format="json").status_code == 409
    assert (
        owner_api.post(list_url(project), {"name": "X", "shortcut": "q"}, format="json").status_code
        == 409
    )
    bad = owner_api.post(list_url(project), {"name": "X", "color": "blue"}, format="json")
    assert bad.status_code == 400 and "#rrggbb" in str(bad.json())
    assert project.labels.count() == 3


def test_a_binary_project_keeps_exactly_one_label(owner, owner_api):
    binary = make_project(owner, "binary", ("violence",))
    assert owner_api.post(list_url(binary), {"name": "other"}, format="json").status_code == 409
    only = binary.labels.get()
    assert owner_api.delete(detail_url(binary, only)).status_code == 409
    assert binary.labels.count() == 1


def test_renaming_a_label_renames_it_in_annotations(project, owner, owner_api):
    ex = make_example(project, "a tweet")
    ann = annotate(ex, owner, ["HS", "AG"])
    label = project.labels.get(name="HS")
    response = owner_api.patch(
        detail_url(project, label), {"name": "HATE", "color": "#123456"}, format="json"
    )
    assert response.status_code == 200, response.json()
    label.refresh_from_db()
    assert (label.name, label.color) == ("HATE", "#123456")
    assert Annotation.objects.get(pk=ann.pk).labels == ["HATE", "AG"]


def test_renaming_a_span_label_renames_it_in_spans(owner, owner_api):
    spans_project = make_project(owner, "spans", ("LOC", "PER"))
    ex = make_example(spans_project, "floods in Lisbon")
    ann = annotate(ex, owner, spans=[{"start": 10, "end": 16, "label": "LOC"}])
    label = spans_project.labels.get(name="LOC")
    assert (
        owner_api.patch(
            detail_url(spans_project, label), {"name": "PLACE"}, format="json"
        ).status_code
        == 200
    )
    assert Annotation.objects.get(pk=ann.pk).spans == [{"start": 10, "end": 16, "label": "PLACE"}]


def test_renaming_onto_another_label_conflicts(project, owner_api):
    label = project.labels.get(name="HS")
    assert (
        owner_api.patch(detail_url(project, label), {"name": "TR"}, format="json").status_code
        == 409
    )
    label.refresh_from_db()
    assert label.name == "HS"


def test_admins_delete_unused_labels_only(project, owner, owner_api):
    annotate(make_example(project, "a tweet"), owner, ["HS"])
    used, unused = project.labels.get(name="HS"), project.labels.get(name="AG")
    response = owner_api.delete(detail_url(project, used))
    assert response.status_code == 409 and "1 annotation" in response.json()["detail"]
    assert owner_api.delete(detail_url(project, unused)).status_code == 204
    assert list(project.labels.values_list("name", flat=True)) == ["HS", "TR"]


def test_a_label_of_another_project_is_404(project, owner, owner_api):
    other = make_project(owner, "binary", ("x",))
    foreign = other.labels.get()
    assert (
        owner_api.patch(detail_url(project, foreign), {"name": "y"}, format="json").status_code
        == 404
    )
    foreign.refresh_from_db()
    assert foreign.name == "x"
