"""GET|POST /api/v1/projects/"""

from __future__ import annotations

import pytest

from annotator.models import Label, Membership, Project, Role
from tests.api.factories import annotate, make_example
from tests.conftest import api_client_for, make_project, make_user

URL = "/api/v1/projects/"


def test_it_lists_only_the_callers_projects(project, owner, annotator_api, outsider_api):
    make_project(make_user("someone"), "binary", ("x",))  # not visible to either
    body = annotator_api.get(URL).json()
    assert [p["id"] for p in body["results"]] == [project.pk]
    assert body["results"][0]["role"] == "annotator"
    assert outsider_api.get(URL).json()["results"] == []


def test_it_lists_every_project_for_a_superuser(project, db):
    make_project(make_user("someone"), "binary", ("x",))
    admin = make_user("root", is_superuser=True, is_staff=True)
    body = api_client_for(admin).get(URL).json()
    assert body["count"] == 2
    assert {p["role"] for p in body["results"]} == {"admin"}


def test_it_shows_counts_roles_and_labels(project, owner, owner_api, viewer_api):
    ex1 = make_example(project, "first tweet")
    make_example(project, "second tweet")
    annotate(ex1, owner, ["HS"])
    annotate(ex1, None, ["TR"], source="import")
    row = owner_api.get(URL).json()["results"][0]
    assert row["counts"] == {"examples": 2, "annotated_examples": 1, "annotations": 2}
    assert [label["name"] for label in row["labels"]] == ["HS", "TR", "AG"]
    assert row["role"] == "admin"
    assert viewer_api.get(URL).json()["results"][0]["role"] == "viewer"


def test_it_filters_by_task_type_and_name(owner, owner_api):
    make_project(owner, "binary", ("violence",))
    make_project(owner, "spans", ("LOC",))
    assert [
        p["task_type"] for p in owner_api.get(URL, {"task_type": "spans"}).json()["results"]
    ] == ["spans"]
    assert owner_api.get(URL, {"search": "BINARY"}).json()["count"] == 1


def test_it_creates_a_project_with_default_shortcuts_and_colours(owner_api, owner):
    response = owner_api.post(
        URL,
        {
            "name": "Hate",
            "task_type": "multilabel",
            "labels": ["HS", "TR", "AG"],
            "guidelines": "Be careful",
            "overlap": 2,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["role"] == "admin"
    project = Project.objects.get(pk=body["id"])
    assert (project.name, project.guidelines, project.overlap, project.created_by) == (
        "Hate",
        "Be careful",
        2,
        owner,
    )
    labels = list(project.labels.values_list("name", "shortcut", "order"))
    assert labels == [("HS", "1", 0), ("TR", "2", 1), ("AG", "3", 2)]
    assert all(
        c.startswith("#") and len(c) == 7 for c in project.labels.values_list("color", flat=True)
    )
    assert Membership.objects.get(project=project, user=owner).role == Role.ADMIN


def test_it_keeps_given_shortcuts_and_colours(owner_api):
    response = owner_api.post(
        URL,
        {
            "name": "p",
            "task_type": "singlelabel",
            "labels": [{"name": "pos", "shortcut": "p", "color": "#00ff00"}, "neg"],
        },
        format="json",
    )
    assert response.status_code == 201
    labels = Label.objects.filter(project_id=response.json()["id"])
    assert list(labels.values_list("name", "shortcut", "color")) == [
        ("pos", "p", "#00ff00"),
        ("neg", "1", labels.get(name="neg").color),
    ]


@pytest.mark.parametrize(
    "payload, field, fragment",
    [
        ({"task_type": "nope", "labels": ["a"]}, "task_type", "valid choice"),
        ({"task_type": "multilabel", "labels": ["a", "A"]}, "labels", "used twice"),
        (
            {
                "task_type": "multilabel",
                "labels": [{"name": "a", "shortcut": "x"}, {"name": "b", "shortcut": "x"}],
            },
            "labels",
            "shortcut",
        ),
        (
            {"task_type": "multilabel", "labels": [{"name": "a", "color": "red"}]},
            "labels",
            "#rrggbb",
        ),
        ({"task_type": "multilabel", "labels": []}, "labels", "at least one"),
        ({"task_type": "binary", "labels": ["a", "b"]}, "labels", "exactly one"),
        ({"task_type": "multilabel", "labels": [{"title": "a"}]}, "labels", "unknown keys"),
    ],
)
def test_it_rejects_bad_schemas_naming_the_field(owner_api, payload, field, fragment):
    response = owner_api.post(URL, {"name": "p", **payload}, format="json")
    assert response.status_code == 400
    assert fragment in str(response.json()[field])
    assert not Project.objects.exists()


def test_anonymous_callers_get_401(client, db):
    assert client.get(URL).status_code == 401
    assert client.post(URL, {}, content_type="application/json").status_code == 401
    assert not Project.objects.exists()


def test_the_path_without_trailing_slash_works_too(owner_api):
    response = owner_api.post(
        URL.rstrip("/"), {"name": "p", "task_type": "binary", "labels": ["x"]}, format="json"
    )
    assert response.status_code == 201
    assert Project.objects.count() == 1


def test_a_page_of_projects_costs_a_fixed_number_of_queries(
    owner, owner_api, django_assert_max_num_queries
):
    for i in range(10):
        p = make_project(owner, "multilabel", ("A", "B"))
        annotate(make_example(p, f"tweet {i}"), owner, ["A"])
    # token, count, page, labels, roles, example counts, annotation counts: not per project
    with django_assert_max_num_queries(7):
        body = owner_api.get(URL).json()
    assert body["count"] == 10
    assert {r["counts"]["annotations"] for r in body["results"]} == {1}
