"""GET /api/v1/schema/ lists the project-side endpoints, and generates without warnings."""

from __future__ import annotations

from django.core.management import call_command

PATHS = [
    "/api/v1/projects/",
    "/api/v1/projects/{project_id}/",
    "/api/v1/projects/{project_id}/labels/",
    "/api/v1/projects/{project_id}/labels/{label_id}/",
    "/api/v1/projects/{project_id}/members/",
    "/api/v1/projects/{project_id}/members/{member_id}/",
    "/api/v1/projects/{project_id}/examples/",
    "/api/v1/projects/{project_id}/examples/{example_id}/",
    "/api/v1/projects/{project_id}/examples/{example_id}/annotations",
    "/api/v1/me",
    "/api/v1/auth/token",
]


def test_the_schema_lists_the_project_paths_once_each(client, db):
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for p in PATHS:
        assert p in paths, p
        twin = p[:-1] if p.endswith("/") else p + "/"
        assert twin not in paths, twin
    annotations = paths["/api/v1/projects/{project_id}/examples/{example_id}/annotations"]
    assert set(annotations) >= {"get", "post", "delete"}
    assert set(annotations["post"]["responses"]) >= {"200", "201"}


def test_our_views_generate_without_warnings(capsys, db):
    # --fail-on-warn covers every app's views; ours must add no warning of our own.
    call_command("spectacular", "--validate", "--file", "/dev/null")
    err = capsys.readouterr().err
    ours = (
        "projects_",
        "me_",
        "auth_",
        "ProjectListCreate",
        "ProjectDetail",
        "Label",
        "Member",
        "Example",
        "Annotation",
        "MeView",
        "ObtainToken",
    )
    offending = [
        line
        for line in err.splitlines()
        if ("Warning" in line or "Error" in line) and any(k in line for k in ours)
    ]
    assert offending == []
