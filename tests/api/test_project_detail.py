"""GET|PATCH|DELETE /api/v1/projects/{id}/"""

from __future__ import annotations

import pytest

from annotator.models import Example, Project
from tests.api.factories import annotate, make_example
from tests.conftest import make_project, make_user


@pytest.fixture
def url(project) -> str:
    return f"/api/v1/projects/{project.pk}/"


def test_members_read_the_project_with_their_role(
    project, url, owner_api, annotator_api, viewer_api
):
    make_example(project, "one tweet")
    for client, role in (
        (owner_api, "admin"),
        (annotator_api, "annotator"),
        (viewer_api, "viewer"),
    ):
        body = client.get(url).json()
        assert body["role"] == role
        assert body["counts"] == {"examples": 1, "annotated_examples": 0, "annotations": 0}
        assert [label["name"] for label in body["labels"]] == ["HS", "TR", "AG"]


def test_outsiders_get_404(project, url, outsider_api):
    assert outsider_api.get(url).status_code == 404
    assert outsider_api.patch(url, {"name": "x"}, format="json").status_code == 404
    assert outsider_api.delete(url).status_code == 404
    assert Project.objects.get(pk=project.pk).name == "multilabel project"


def test_unknown_projects_get_404(owner_api, db):
    assert owner_api.get("/api/v1/projects/999999/").status_code == 404


def test_admins_change_settings(project, url, owner_api):
    response = owner_api.patch(
        url,
        {"name": "Renamed", "guidelines": "Label hate.", "overlap": 3, "retrain_every": 50},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "Renamed"
    project.refresh_from_db()
    assert (project.name, project.guidelines, project.overlap, project.retrain_every) == (
        "Renamed",
        "Label hate.",
        3,
        50,
    )


@pytest.mark.parametrize("who", ["annotator_api", "viewer_api"])
def test_non_admins_cannot_change_or_delete(project, url, who, request):
    client = request.getfixturevalue(who)
    assert client.patch(url, {"name": "x"}, format="json").status_code == 403
    assert client.delete(url).status_code == 403
    assert Project.objects.get(pk=project.pk).name == "multilabel project"


def test_labels_are_not_changed_through_the_project(project, url, owner_api):
    response = owner_api.patch(url, {"labels": ["X"]}, format="json")
    assert response.status_code == 400
    assert "labels" in response.json()
    assert list(project.labels.values_list("name", flat=True)) == ["HS", "TR", "AG"]


def test_the_task_type_changes_only_while_nothing_is_annotated(project, url, owner, owner_api):
    assert owner_api.patch(url, {"task_type": "singlelabel"}, format="json").status_code == 200
    annotate(make_example(project, "a tweet"), owner, ["HS"])
    response = owner_api.patch(url, {"task_type": "multilabel"}, format="json")
    assert response.status_code == 409
    project.refresh_from_db()
    assert project.task_type == "singlelabel"


def test_a_project_becomes_binary_only_with_one_label(project, url, owner_api):
    response = owner_api.patch(url, {"task_type": "binary"}, format="json")
    assert response.status_code == 400
    assert "exactly one" in str(response.json()["labels"])


def test_admins_delete_the_project_and_its_examples(project, url, owner_api):
    make_example(project, "a tweet")
    other = make_project(make_user("someone"), "binary", ("x",))
    make_example(other, "a tweet")
    assert owner_api.delete(url).status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()
    assert list(Example.objects.values_list("project_id", flat=True)) == [other.pk]


def test_queue_strategy_and_retrain_backend_must_exist(project, url, owner_api):
    bad = owner_api.patch(url, {"queue_strategy": "psychic"}, format="json")
    assert bad.status_code == 400 and "random" in bad.json()["queue_strategy"][0]
    bad = owner_api.patch(url, {"retrain_backend": "nope"}, format="json")
    assert bad.status_code == 400 and "embedding_head" in bad.json()["retrain_backend"][0]
    # A backend that exists but cannot train this (multilabel) project is refused too (issue 13:
    # the page checked this, REST did not).
    bad = owner_api.patch(url, {"retrain_backend": "span_tagger"}, format="json")
    assert bad.status_code == 400
    assert "cannot train a multilabel project" in bad.json()["retrain_backend"][0]
    ok = owner_api.patch(
        url, {"queue_strategy": "sequential", "retrain_backend": "transformer_classifier"}, format="json"
    )
    assert ok.status_code == 200
    project.refresh_from_db()
    assert (project.queue_strategy, project.retrain_backend) == ("sequential", "transformer_classifier")


def test_admins_set_the_threshold_objective_and_validation_split(project, url, owner_api):
    response = owner_api.patch(url, {
        "threshold_objective": "target_recall", "threshold_targets": {"HS": 0.9, "AG": 0.75},
        "validation_split": {"kind": "group", "field": "event", "values": ["boston"]},
    }, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["threshold_objective"] == "target_recall"
    assert body["threshold_targets"] == {"HS": 0.9, "AG": 0.75}
    assert body["validation_split"] == {"kind": "group", "field": "event", "values": ["boston"]}


@pytest.mark.parametrize("payload, field, message", [
    ({"threshold_objective": "accuracy"}, "threshold_objective", "unknown threshold objective 'accuracy'"),
    ({"threshold_targets": {"crisis": 0.9}}, "threshold_targets", "unknown label 'crisis'"),
    ({"threshold_targets": {"HS": 2}}, "threshold_targets", "must be a number in (0, 1]"),
    ({"validation_split": {"kind": "group", "field": "event"}}, "validation_split", "needs `field`"),
    ({"validation_split": {"kind": "date", "before": "March"}}, "validation_split", "before"),
])
def test_bad_training_defaults_are_a_400_naming_the_field(project, url, owner_api, payload, field, message):
    response = owner_api.patch(url, payload, format="json")
    assert response.status_code == 400
    assert message in str(response.json()[field])
    project.refresh_from_db()
    assert project.threshold_objective == "" and project.validation_split == {}


@pytest.mark.parametrize("field", ["validation_split", "threshold_targets"])
def test_a_null_training_default_is_a_400_naming_the_field(owner_api, project, field):
    response = owner_api.patch(f"/api/v1/projects/{project.pk}/", {field: None}, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
