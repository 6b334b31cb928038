"""GET|POST /api/v1/projects/{id}/examples/"""

from __future__ import annotations

import pytest

from annotator.models import Example
from annotator.normalize import content_hash, normalize
from tests.api.factories import annotate, make_example


def url(project) -> str:
    return f"/api/v1/projects/{project.pk}/examples/"


@pytest.fixture
def examples(project, owner, annotator_user):
    a = make_example(project, "RT @bob Flood in Queensland http://t.co/x", external_id="t1")
    b = make_example(project, "Earthquake shakes the city", external_id="t2")
    c = make_example(project, "lovely weather today", external_id="t3")
    annotate(a, owner, ["HS"])
    annotate(b, annotator_user, ["TR"])
    annotate(b, None, ["AG"], source="import")
    return a, b, c


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_members_list_examples_with_their_own_annotation(
    project, examples, annotator_api, viewer_api
):
    a, b, c = examples
    body = annotator_api.get(url(project)).json()
    assert body["count"] == 3
    rows = {row["id"]: row for row in body["results"]}
    assert rows[b.pk]["my_annotation"]["labels"] == ["TR"]
    assert rows[a.pk]["my_annotation"] is None
    assert (rows[b.pk]["annotation_count"], rows[b.pk]["annotated"]) == (2, True)
    assert rows[c.pk]["annotated"] is False
    assert rows[a.pk]["normalized_text"] == "Flood in Queensland"
    assert viewer_api.get(url(project)).json()["count"] == 3


def test_outsiders_get_404(project, examples, outsider_api):
    assert outsider_api.get(url(project)).status_code == 404
    assert outsider_api.post(url(project), {"text": "hello"}, format="json").status_code == 404
    assert Example.objects.filter(project=project).count() == 3


def test_it_paginates(project, examples, owner_api):
    first = owner_api.get(url(project), {"page_size": 2}).json()
    assert (first["count"], len(first["results"])) == (3, 2)
    second = owner_api.get(first["next"]).json()
    assert len(second["results"]) == 1


def test_it_filters_annotated_search_external_id_label_and_source(project, examples, owner_api):
    a, b, c = examples
    assert ids(owner_api.get(url(project), {"annotated": "true"})) == [a.pk, b.pk]
    assert ids(owner_api.get(url(project), {"annotated": "false"})) == [c.pk]
    assert ids(owner_api.get(url(project), {"search": "EARTHQUAKE"})) == [b.pk]
    assert ids(owner_api.get(url(project), {"external_id": "t3"})) == [c.pk]
    assert ids(owner_api.get(url(project), {"label": "AG"})) == [b.pk]
    assert ids(owner_api.get(url(project), {"source": "import"})) == [b.pk]
    assert ids(owner_api.get(url(project), {"annotated_by_me": "true"})) == [a.pk]
    assert ids(owner_api.get(url(project), {"ordering": "-id"})) == [c.pk, b.pk, a.pk]


def test_admins_add_an_example_normalized_and_hashed(project, owner_api):
    text = "RT @ana Fire near &amp; around http://x.co/1"
    response = owner_api.post(
        url(project), {"text": text, "external_id": "42", "meta": {"lang": "en"}}, format="json"
    )
    assert response.status_code == 201, response.json()
    ex = Example.objects.get(pk=response.json()["id"])
    assert ex.text == text
    assert ex.normalized_text == normalize(text) == "Fire near & around"
    assert ex.content_hash == content_hash(ex.normalized_text)
    assert (ex.external_id, ex.meta) == ("42", {"lang": "en"})


def test_a_duplicate_text_is_409_naming_the_existing_example(project, examples, owner_api):
    a = examples[0]
    # Same text once mentions, URLs and case are normalized away.
    response = owner_api.post(
        url(project), {"text": "@carol flood in queensland https://t.co/y"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["existing_id"] == a.pk
    assert str(a.pk) in response.json()["detail"]
    assert Example.objects.filter(project=project).count() == 3


def test_empty_text_is_rejected(project, owner_api):
    response = owner_api.post(url(project), {"text": "   "}, format="json")
    assert response.status_code == 400 and "text" in response.json()
    assert not Example.objects.exists()


@pytest.mark.parametrize("who", ["annotator_api", "viewer_api"])
def test_non_admins_cannot_add_examples(project, who, request):
    client = request.getfixturevalue(who)
    assert client.post(url(project), {"text": "hello"}, format="json").status_code == 403
    assert not Example.objects.exists()


def test_a_page_costs_a_fixed_number_of_queries(
    project, owner, annotator_user, owner_api, django_assert_max_num_queries
):
    for i in range(30):
        ex = make_example(project, f"tweet number {i}")
        annotate(ex, owner, ["HS"])
        annotate(ex, annotator_user, ["TR"])
    # token, project, role, count, page, prefetch of the caller's annotations: not per row
    with django_assert_max_num_queries(6):
        body = owner_api.get(url(project), {"page_size": 30}).json()
    assert len(body["results"]) == 30
    assert {row["annotation_count"] for row in body["results"]} == {2}


def test_texts_that_normalize_to_nothing_are_told_apart_by_their_raw_text(project, owner_api):
    first = owner_api.post(url(project), {"text": "@bob http://t.co/1"}, format="json")
    second = owner_api.post(url(project), {"text": "@ann http://t.co/2"}, format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    assert Example.objects.get(pk=first.json()["id"]).content_hash == content_hash(
        "@bob http://t.co/1"
    )
