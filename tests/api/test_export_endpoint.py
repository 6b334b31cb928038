"""GET /api/v1/projects/{id}/export?format=jsonl|csv|conll"""
from __future__ import annotations

import csv
import io
import json

import pytest

from annotator.models import Annotation, Example
from tests.api.factories import make_example
from tests.conftest import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def filled(project, annotator_user):
    first = make_example(project, "Flood in the city", external_id="a1", meta={"lang": "en"})
    make_example(project, "Nothing to see", external_id="a2")
    Annotation.objects.create(example=first, user=None, labels=["HS"], source="import")
    Annotation.objects.create(example=first, user=annotator_user, labels=["TR"], source="human")
    return project


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_members_download_jsonl_as_an_attachment(owner_api, annotator_api, viewer_api, filled):
    for client in (owner_api, annotator_api, viewer_api):
        response = client.get(f"/api/v1/projects/{filled.pk}/export?format=jsonl")
        assert response.status_code == 200
        assert response["Content-Disposition"] == f'attachment; filename="project-{filled.pk}.jsonl"'
        records = [json.loads(line) for line in body(response).splitlines()]
        assert [r["id"] for r in records] == ["a1", "a2"]
        assert records[0]["labels"] == ["TR"] and records[0]["meta"] == {"lang": "en"}
        assert {(a["user"], a["source"]) for a in records[0]["annotations"]} == {
            (None, "import"), ("annotator", "human")}


def test_it_defaults_to_jsonl_and_streams_csv(owner_api, filled):
    assert owner_api.get(f"/api/v1/projects/{filled.pk}/export")["Content-Type"].startswith("application/x-ndjson")
    response = owner_api.get(f"/api/v1/projects/{filled.pk}/export?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [(r["id"], r["text"], r["labels"]) for r in rows] == [
        ("a1", "Flood in the city", '["TR"]'), ("a2", "Nothing to see", "")]


def test_it_exports_conll_for_spans_projects(owner_api, owner):
    spans_project = make_project(owner, "spans", ("location",))
    example = make_example(spans_project, "Rain in New York")
    Annotation.objects.create(example=example, user=None, spans=[{"start": 8, "end": 16, "label": "location"}], source="import")
    response = owner_api.get(f"/api/v1/projects/{spans_project.pk}/export?format=conll")
    assert response.status_code == 200
    assert body(response) == "Rain\tO\nin\tO\nNew\tB-location\nYork\tI-location\n\n"


def test_it_rejects_unknown_formats_and_conll_for_classification(owner_api, filled):
    response = owner_api.get(f"/api/v1/projects/{filled.pk}/export?format=xml")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "format"
    response = owner_api.get(f"/api/v1/projects/{filled.pk}/export?format=conll")
    assert response.status_code == 400 and "spans project" in response.json()["errors"][0]["message"]


def test_it_hides_the_project_from_outsiders(outsider_api, filled):
    assert outsider_api.get(f"/api/v1/projects/{filled.pk}/export?format=jsonl").status_code == 404
    assert Example.objects.filter(project=filled).count() == 2


@pytest.fixture
def two_annotators(filled, annotator_user):
    """`filled` plus a second annotator whose later labels would be the primary ones."""
    from annotator.models import Membership, Role
    from tests.conftest import api_client_for, make_user

    other = make_user("other-annotator")
    Membership.objects.create(user=other, project=filled, role=Role.ANNOTATOR)
    first = Example.objects.get(project=filled, external_id="a1")
    second = Example.objects.get(project=filled, external_id="a2")
    Annotation.objects.create(example=first, user=other, labels=["AG"], source="human")
    Annotation.objects.create(example=second, user=other, labels=["HS"], source="human")
    return filled, api_client_for(other)


def records_of(client, project, fmt="jsonl"):
    response = client.get(f"/api/v1/projects/{project.pk}/export?format={fmt}")
    assert response.status_code == 200
    return body(response)


def test_an_annotator_exports_only_their_own_and_imported_annotations(annotator_api, two_annotators):
    project, _ = two_annotators
    records = [json.loads(line) for line in records_of(annotator_api, project).splitlines()]
    # a1: the other annotator's later AG is not the primary label, and not listed.
    assert records[0]["labels"] == ["TR"]
    assert {(a["user"], tuple(a["labels"])) for a in records[0]["annotations"]} == {
        (None, ("HS",)), ("annotator", ("TR",))}
    # a2: only the other annotator labelled it: unlabelled for this annotator.
    assert "labels" not in records[1] and records[1]["annotations"] == []
    text = records_of(annotator_api, project, "csv")
    assert "other-annotator" not in text and '"AG"' not in text


def test_the_other_annotator_sees_theirs_and_not_the_first(two_annotators):
    project, other_api = two_annotators
    records = [json.loads(line) for line in records_of(other_api, project).splitlines()]
    assert records[0]["labels"] == ["AG"] and records[1]["labels"] == ["HS"]
    assert "annotator" not in {a["user"] for r in records for a in r["annotations"]}


def test_admins_and_viewers_export_every_annotation(owner_api, viewer_api, two_annotators):
    project, _ = two_annotators
    for client in (owner_api, viewer_api):
        records = [json.loads(line) for line in records_of(client, project).splitlines()]
        assert {a["user"] for a in records[0]["annotations"]} == {None, "annotator", "other-annotator"}
        assert records[1]["labels"] == ["HS"]
