"""GET /api/v1/me"""

from __future__ import annotations

from tests.conftest import api_client_for, make_project, make_user


def test_it_returns_the_caller_and_their_roles(project, annotator_api, viewer_api, outsider_api):
    body = annotator_api.get("/api/v1/me").json()
    assert (body["username"], body["is_superuser"]) == ("annotator", False)
    assert body["projects"] == [
        {"id": project.pk, "name": project.name, "task_type": "multilabel", "role": "annotator"}
    ]
    assert viewer_api.get("/api/v1/me/").json()["projects"][0]["role"] == "viewer"
    assert outsider_api.get("/api/v1/me").json()["projects"] == []


def test_a_superuser_is_admin_of_every_project(project, db):
    other = make_project(make_user("x"), "binary", ("y",))
    root = make_user("root", is_superuser=True)
    projects = api_client_for(root).get("/api/v1/me").json()["projects"]
    assert [(p["id"], p["role"]) for p in projects] == [(project.pk, "admin"), (other.pk, "admin")]


def test_anonymous_callers_get_401(client, db):
    assert client.get("/api/v1/me").status_code == 401
