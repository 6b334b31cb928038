"""GET|PATCH|DELETE /api/v1/projects/{id}/examples/{eid}/"""

from __future__ import annotations

import pytest

from annotator.models import Annotation, Example
from tests.api.factories import annotate, make_example
from tests.conftest import make_project


@pytest.fixture
def example(project, owner, annotator_user):
    ex = make_example(project, "Flood warning for the coast", external_id="t1")
    annotate(ex, owner, ["HS"])
    annotate(ex, annotator_user, ["TR"])
    annotate(ex, None, ["AG"], source="import")
    return ex


def url(project, example) -> str:
    return f"/api/v1/projects/{project.pk}/examples/{example.pk}/"


def usernames(response) -> list:
    return [a["username"] for a in response.json()["annotations"]]


def test_admins_and_viewers_see_every_annotation(project, example, owner_api, viewer_api):
    assert usernames(owner_api.get(url(project, example))) == ["owner", "annotator", None]
    assert usernames(viewer_api.get(url(project, example))) == ["owner", "annotator", None]


def test_annotators_see_their_own_and_imported_annotations(project, example, annotator_api):
    body = annotator_api.get(url(project, example)).json()
    assert [(a["username"], a["labels"]) for a in body["annotations"]] == [
        ("annotator", ["TR"]),
        (None, ["AG"]),
    ]
    assert body["my_annotation"]["labels"] == ["TR"]


def test_outsiders_get_404(project, example, outsider_api):
    assert outsider_api.get(url(project, example)).status_code == 404
    assert outsider_api.patch(url(project, example), {"meta": {}}, format="json").status_code == 404
    assert outsider_api.delete(url(project, example)).status_code == 404
    assert Example.objects.filter(pk=example.pk).exists()


def test_an_example_of_another_project_is_404(project, owner, owner_api):
    other = make_project(owner, "binary", ("x",))
    foreign = make_example(other, "elsewhere")
    assert owner_api.get(url(project, foreign)).status_code == 404


def test_admins_edit_text_and_metadata(project, example, owner_api):
    response = owner_api.patch(
        url(project, example),
        {"text": "RT Flood warning lifted", "meta": {"lang": "en"}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    example.refresh_from_db()
    assert (example.text, example.normalized_text, example.meta) == (
        "RT Flood warning lifted",
        "Flood warning lifted",
        {"lang": "en"},
    )


def test_editing_onto_another_examples_text_conflicts(project, example, owner_api):
    other = make_example(project, "Something else")
    response = owner_api.patch(url(project, example), {"text": "something   ELSE"}, format="json")
    assert response.status_code == 409 and response.json()["existing_id"] == other.pk
    example.refresh_from_db()
    assert example.text == "Flood warning for the coast"


def test_span_examples_keep_their_text_once_annotated(owner, owner_api):
    spans = make_project(owner, "spans", ("LOC",))
    ex = make_example(spans, "floods in Lisbon")
    annotate(ex, owner, spans=[{"start": 10, "end": 16, "label": "LOC"}])
    response = owner_api.patch(url(spans, ex), {"text": "floods in Porto"}, format="json")
    assert response.status_code == 400 and "offsets" in str(response.json()["text"])


@pytest.mark.parametrize("who", ["annotator_api", "viewer_api"])
def test_non_admins_cannot_edit_or_delete(project, example, who, request):
    client = request.getfixturevalue(who)
    assert client.patch(url(project, example), {"text": "x"}, format="json").status_code == 403
    assert client.delete(url(project, example)).status_code == 403
    example.refresh_from_db()
    assert example.text == "Flood warning for the coast"


def test_admins_delete_an_example_and_its_annotations(project, example, owner_api):
    assert owner_api.delete(url(project, example)).status_code == 204
    assert not Example.objects.filter(pk=example.pk).exists()
    assert not Annotation.objects.exists()
