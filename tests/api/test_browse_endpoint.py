"""GET /projects/{id}/browse and POST /projects/{id}/examples/bulk."""
from __future__ import annotations

import json

import pytest

from annotator.models import Annotation, Example
from annotator.services import queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(project, annotator_user):
    made = [
        Example.objects.create(project=project, text=t, content_hash=f"h{i}", meta={"lang": lang})
        for i, (t, lang) in enumerate([("red fox", "en"), ("blue whale", "en"), ("zorro rojo", "es")])
    ]
    Annotation.objects.create(example=made[1], user=annotator_user, labels=["HS"])
    return made


def url(project, tail):
    return f"/api/v1/projects/{project.pk}/{tail}"


def test_it_filters_like_the_page(owner_api, project, rows):
    body = owner_api.get(url(project, "browse"), {"q": "fox"}).json()
    assert [r["id"] for r in body["results"]] == [rows[0].pk]
    body = owner_api.get(url(project, "browse"), {"label": "HS"}).json()
    assert [r["id"] for r in body["results"]] == [rows[1].pk]
    assert body["results"][0]["annotations"][0]["user"] == "annotator"
    body = owner_api.get(url(project, "browse") + "?meta=lang=es").json()
    assert [r["id"] for r in body["results"]] == [rows[2].pk]
    assert body["has_next"] is False and body["count"] == 1


def test_next_after_walks_the_pages(owner_api, project, rows):
    first = owner_api.get(url(project, "browse"), {"page_size": 2}).json()
    assert [r["id"] for r in first["results"]] == [rows[0].pk, rows[1].pk]
    assert first["has_next"] and first["next_after"] == rows[1].pk
    second = owner_api.get(url(project, "browse"),
                           {"page_size": 2, "page": 2, "after": first["next_after"]}).json()
    assert [r["id"] for r in second["results"]] == [rows[2].pk]
    assert second["next_after"] is None and not second["has_next"]
    assert owner_api.get(url(project, "browse"), {"after": "x"}).status_code == 400


def test_bad_filter_values_are_a_400_naming_the_field(owner_api, project, rows):
    response = owner_api.get(url(project, "browse"), {"score_min": "high"})
    assert response.status_code == 400
    assert "score_min" in response.json()
    response = owner_api.get(url(project, "browse"), {"score_min": "0.5"})
    assert response.status_code == 400  # no current model version
    assert "no current model version" in json.dumps(response.json())


def test_annotators_cannot_browse_others_labels(annotator_api, project, rows):
    assert annotator_api.get(url(project, "browse")).status_code == 403


def test_bulk_delete_by_ids(owner_api, project, rows):
    response = owner_api.post(url(project, "examples/bulk"),
                              {"action": "delete", "ids": [rows[0].pk]}, format="json")
    assert response.json() == {"deleted": 1}
    assert not Example.objects.filter(pk=rows[0].pk).exists()


def test_bulk_front_by_filter_is_served_next(owner_api, project, rows, owner):
    response = owner_api.post(url(project, "examples/bulk"),
                              {"action": "front", "filter": {"q": "zorro"}}, format="json")
    assert response.json() == {"moved": 1}
    assert queue.next_example(project, owner).pk == rows[2].pk


def test_bulk_export_of_the_selection(owner_api, project, rows):
    response = owner_api.post(url(project, "examples/bulk"),
                              {"action": "export", "ids": [rows[1].pk, rows[2].pk],
                               "format": "jsonl"}, format="json")
    lines = [json.loads(x) for x in b"".join(response.streaming_content).decode().splitlines()]
    assert [x["text"] for x in lines] == ["blue whale", "zorro rojo"]
    assert lines[0]["labels"] == ["HS"]


@pytest.mark.parametrize("body,field", [
    ({"action": "explode", "ids": [1]}, "action"),
    ({"action": "delete"}, "ids"),
    ({"action": "delete", "ids": ["x"]}, "ids"),
    ({"action": "delete", "filter": {"sort": "nope"}}, "sort"),
    ({"action": "export", "ids": [1], "format": "xml"}, "format"),
])
def test_bad_bulk_requests_are_a_400(owner_api, project, rows, body, field):
    response = owner_api.post(url(project, "examples/bulk"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_sequential_queue_refuses_front(owner_api, project, rows):
    project.queue_strategy = "sequential"
    project.save()
    response = owner_api.post(url(project, "examples/bulk"),
                              {"action": "front", "ids": [rows[2].pk]}, format="json")
    assert response.status_code == 400
    assert "sequential" in response.json()["action"][0]
