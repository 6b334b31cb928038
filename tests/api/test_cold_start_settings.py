"""PATCH /projects/{id}/ with the cold-start fields (issue 18): queue_query, queue_then and
transfer_model_version, each refused with a 400 naming the field; the transfer model's
predictions start as a chunked job; the suggestions follow the transfer model until the
project has its own current model."""
from __future__ import annotations

import pytest

from annotator.models import Membership, Role
from models_zoo.models import ModelVersion, Prediction, PredictionJob
from tests.api.factories import make_example
from tests.conftest import make_project, make_user

pytestmark = pytest.mark.django_db


def version_row(project, labels, **extra):
    return ModelVersion.objects.create(project=project, backend="embedding_head", config={},
                                       artifact_dir="", labels=list(labels), **extra)


def patch(api, project, body):
    return api.patch(f"/api/v1/projects/{project.pk}/", body, format="json")


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"queue_strategy": "query"}, "queue_query", "needs queue_query"),
    ({"queue_query": ["ok", ""]}, "queue_query", "description 2 must be a non-empty string"),
    ({"queue_query": ["x"] * 21}, "queue_query", "at most 20 descriptions"),
    ({"queue_query": {"text": "x"}}, "queue_query", "give a description"),
    ({"queue_then": "query"}, "queue_then", "model-driven strategy"),
    ({"queue_then": "sequential"}, "queue_then", "model-driven strategy"),
    ({"queue_strategy": "query", "queue_query": "floods", "queue_then": "likely_positive"},
     "queue_label", "needs a queue_label"),
    ({"transfer_model_version": 987654}, "transfer_model_version", "project you can read"),
    ({"transfer_model_version": "seven"}, "transfer_model_version", "valid integer"),
])
def test_bad_cold_start_settings_are_a_400_naming_the_field(owner_api, project, body, field, message):
    response = patch(owner_api, project, body)
    assert response.status_code == 400, response.content
    assert message in str(response.json()[field])
    project.refresh_from_db()
    assert (project.queue_strategy, project.queue_query, project.transfer_model_version_id) == ("random", [], None)


def test_a_description_becomes_a_list_and_the_query_strategy_is_accepted(owner_api, project):
    response = patch(owner_api, project, {"queue_strategy": "query", "queue_query": " floods in town "})
    assert response.status_code == 200, response.content
    assert response.json()["queue_query"] == ["floods in town"]
    assert response.json()["queue_then"] == "margin"
    names = {s["name"]: s for s in owner_api.get(f"/api/v1/projects/{project.pk}/queue-strategies").json()["strategies"]}
    assert names["query"]["needs_query"] is True


def test_a_transfer_model_must_be_readable_with_the_same_labels_and_from_another_project(
        owner, owner_api, project, outsider):
    readable = make_project(owner, labels=("AG", "TR", "HS"))
    wrong = make_project(owner, labels=("HS",))
    hidden = make_project(outsider, labels=("HS", "TR", "AG"))
    singlelabel = make_project(owner, task_type="singlelabel", labels=("HS", "TR", "AG"))
    cases = [
        (version_row(wrong, ("HS",)), "label names must match"),
        (version_row(hidden, ("HS", "TR", "AG")), "project you can read"),
        (version_row(project, ("HS", "TR", "AG")), "another project's model version"),
        (version_row(singlelabel, ("HS", "TR", "AG")), "is a singlelabel model"),
    ]
    for version, message in cases:
        response = patch(owner_api, project, {"transfer_model_version": version.pk})
        assert response.status_code == 400 and message in str(response.json()["transfer_model_version"])
    good = version_row(readable, ("AG", "TR", "HS"))
    make_example(project, "first tweet")
    ok = patch(owner_api, project, {"transfer_model_version": good.pk})
    assert ok.status_code == 200 and ok.json()["transfer_model_version"] == good.pk
    # Its predictions over this project start as a chunked job of that version.
    job = PredictionJob.objects.get(project=project)
    assert job.model_version_id == good.pk and job.examples == 1
    cleared = patch(owner_api, project, {"transfer_model_version": None})
    assert cleared.status_code == 200 and cleared.json()["transfer_model_version"] is None


def test_a_member_admin_who_cannot_read_the_other_project_is_refused(owner, project):
    from tests.conftest import api_client_for

    other_admin = make_user("other-admin")
    Membership.objects.create(user=other_admin, project=project, role=Role.ADMIN)
    previous = make_project(owner, labels=("HS", "TR", "AG"))
    version = version_row(previous, ("HS", "TR", "AG"))
    response = patch(api_client_for(other_admin), project, {"transfer_model_version": version.pk})
    assert response.status_code == 400 and "project you can read" in str(response.json())


def test_suggestions_come_from_the_transfer_model_until_the_project_has_its_own(
        owner, client, project, annotator_user):
    previous = make_project(owner, labels=("HS", "TR", "AG"))
    transfer = version_row(previous, ("HS", "TR", "AG"), is_current=True)
    project.transfer_model_version = transfer
    project.save()
    example = make_example(project, "a tweet to suggest for")
    Prediction.objects.create(example=example, model_version=transfer,
                              scores={"HS": 0.91, "TR": 0.1, "AG": 0.2}, labels=["HS"])
    client.force_login(annotator_user)
    page = client.get(f"/projects/{project.pk}/annotate/").content.decode()
    assert 'id="transfer-note"' in page and f"version {transfer.pk} of" in page
    assert f"Pre-filled from model {transfer}" in page
    own = version_row(project, ("HS", "TR", "AG"), is_current=True)
    page = client.get(f"/projects/{project.pk}/annotate/").content.decode()
    assert 'id="transfer-note"' not in page
    assert "Pre-filled from model" not in page  # its own model has not predicted it yet
    Prediction.objects.create(example=example, model_version=own,
                              scores={"HS": 0.2, "TR": 0.7, "AG": 0.1}, labels=["TR"])
    page = client.get(f"/projects/{project.pk}/annotate/").content.decode()
    assert f"Pre-filled from model {own}" in page
