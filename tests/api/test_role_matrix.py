"""Every REST operation in the URL configuration x every persona: no 500, outsiders get 404,
anonymous callers 401/403, members below an operation's role 403, members at or above it never
403/404.

The operations are discovered from the URLconf, so a new route joins the matrix by itself; its
minimum role must be written in MIN_ROLE (the test fails until it is), which is the point: the
access rule of each operation is stated once, here, and checked for every persona.
"""
from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.api.world import build_world
from tests.conftest import api_client_for, make_user

pytestmark = pytest.mark.django_db

API_PREFIX = "api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")
ANYONE = "anyone signed in"  # not scoped to a project: outsiders are served too
PUBLIC = "public"


def discover_operations() -> list[tuple[str, str, str]]:
    """(url name, route template, method) for every REST operation under /api/v1/, one per
    view (the slash twins of a route share its view and are left out)."""
    found: list[tuple[str, str, str]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                cls = getattr(entry.callback, "cls", None)
                name = entry.name or route
                if cls is None or not route.startswith(API_PREFIX) or name.endswith("-twin"):
                    continue
                if name in ("schema", "api-docs"):
                    continue
                allowed = set(getattr(cls, "http_method_names", METHODS))
                for method in METHODS:
                    if method in allowed and hasattr(cls, method):
                        found.append((name, route, method))

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


# The least role each operation needs (admin > annotator > viewer), or ANYONE / PUBLIC.
MIN_ROLE: dict[tuple[str, str], str] = {
    ("api-token", "post"): PUBLIC,
    ("api-me", "get"): ANYONE,
    ("api-project-list", "get"): ANYONE,
    ("api-project-list", "post"): ANYONE,
    ("api-backends", "get"): ANYONE,
    ("api-project-detail", "get"): "viewer",
    ("api-project-detail", "patch"): "admin",
    ("api-project-detail", "put"): "admin",
    ("api-project-detail", "delete"): "admin",
    ("api-label-list", "get"): "viewer",
    ("api-label-list", "post"): "admin",
    ("api-label-detail", "get"): "viewer",
    ("api-label-detail", "patch"): "admin",
    ("api-label-detail", "put"): "admin",
    ("api-label-detail", "delete"): "admin",
    ("api-member-list", "get"): "viewer",
    ("api-member-list", "post"): "admin",
    ("api-member-detail", "get"): "viewer",
    ("api-member-detail", "patch"): "admin",
    ("api-member-detail", "put"): "admin",
    ("api-member-detail", "delete"): "admin",
    ("api-example-list", "get"): "viewer",
    ("api-example-list", "post"): "admin",
    ("api-example-detail", "get"): "viewer",
    ("api-example-detail", "patch"): "admin",
    ("api-example-detail", "put"): "admin",
    ("api-example-detail", "delete"): "admin",
    ("api-example-annotations", "get"): "viewer",
    ("api-example-annotations", "post"): "annotator",
    ("api-example-annotations", "delete"): "annotator",
    # Issue 20: example images, for members of the example's project only.
    ("api-example-image", "get"): "viewer",
    ("api-example-thumbnail", "get"): "viewer",
    ("api-browse", "get"): "admin",
    ("api-examples-bulk", "post"): "admin",
    ("api-project-import", "post"): "admin",
    ("api-project-export", "get"): "viewer",
    ("api-import-job-detail", "get"): "admin",
    ("api-train", "post"): "admin",
    ("api-project-runs", "get"): "viewer",
    ("api-run-detail", "get"): "viewer",
    ("api/v1/runs/<int:run_id>/", "get"): "viewer",  # the unnamed slash twin
    ("api-run-cancel", "post"): "admin",
    ("api-project-models", "get"): "viewer",
    ("api-model-detail", "get"): "viewer",
    ("api-model-promote", "post"): "admin",
    ("api-project-predict", "post"): "viewer",
    ("api-project-predict-all", "post"): "admin",
    ("api-project-predictions-status", "get"): "viewer",
    # Issue 10: samples, the prevalence index, chunked prediction jobs.
    ("api-project-samples", "get"): "viewer",
    ("api-project-samples", "post"): "admin",
    ("api-sample-detail", "get"): "viewer",
    ("api-sample-members", "get"): "viewer",
    ("api-project-index", "get"): "viewer",
    ("api-project-prediction-jobs", "get"): "viewer",
    ("api-project-prediction-jobs", "post"): "admin",
    ("api-prediction-job", "get"): "viewer",
    ("api-prediction-job-cancel", "post"): "admin",
    ("api-prediction-job-resume", "post"): "admin",
    # Issue 8: the embedding store, similarity search, mining and negatives experiments are
    # for project admins only (they queue encoder work and read every example's text).
    ("api-embeddings", "get"): "admin",
    ("api-embeddings", "post"): "admin",
    ("api-example-similar", "get"): "admin",
    ("api-semantic-search", "post"): "admin",
    ("api-project-mining", "get"): "admin",
    ("api-project-mining", "post"): "admin",
    ("api-mining-detail", "get"): "admin",
    ("api-mining-proposals", "get"): "admin",
    ("api-mining-serve", "post"): "admin",
    ("api-negatives-experiments", "get"): "admin",
    ("api-negatives-experiments", "post"): "admin",
    ("api-negatives-experiment", "get"): "admin",
    # Active learning (issue 9): members read the strategies, annotators take the next example,
    # admins run and read simulations.
    ("api-queue-strategies", "get"): "viewer",
    ("api-queue-next", "post"): "annotator",
    ("api-project-simulations", "get"): "admin",
    ("api-project-simulations", "post"): "admin",
    ("api-simulation-detail", "get"): "admin",
    # Issue 13: agreement figures and adjudication are for admins; undo for annotators.
    ("api-project-agreement", "get"): "admin",
    ("api-example-adjudicate", "post"): "admin",
    ("api-project-undo", "post"): "annotator",
    # Issue 24: API keys and webhooks are for admins; any member may score files (as predict).
    ("api-project-api-keys", "get"): "admin",
    ("api-project-api-keys", "post"): "admin",
    ("api-api-key", "delete"): "admin",
    ("api-project-webhooks", "get"): "admin",
    ("api-project-webhooks", "post"): "admin",
    ("api-webhook", "get"): "admin",
    ("api-webhook", "delete"): "admin",
    ("api-webhook-enable", "post"): "admin",
    ("api-webhook-test", "post"): "admin",
    ("api-webhook-deliveries", "get"): "admin",
    ("api-scoring-jobs", "get"): "viewer",
    ("api-scoring-jobs", "post"): "viewer",
    ("api-scoring-job", "get"): "viewer",
    ("api-scoring-job-results", "get"): "viewer",
    ("api-scoring-job-cancel", "post"): "viewer",
    ("api-scoring-job-resume", "post"): "viewer",
}
RANK = {"viewer": 1, "annotator": 2, "admin": 3}
PERSONAS = ("owner", "annotator", "viewer", "outsider", "anonymous")
PERSONA_RANK = {"owner": 3, "annotator": 2, "viewer": 1, "outsider": 0, "anonymous": -1}
OPERATIONS = discover_operations()


def fill(route: str, ids: dict[str, int]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), route)


def test_every_operation_states_its_minimum_role():
    missing = [(name, method) for name, _, method in OPERATIONS if (name, method) not in MIN_ROLE]
    assert not missing, f"add these operations to MIN_ROLE: {missing}"
    assert len(OPERATIONS) >= 35  # the discovery found the API, not an empty URLconf


@pytest.fixture
def world(owner, annotator_user, viewer) -> dict[str, int]:
    return build_world(owner, annotator_user, viewer)


def client_for(persona: str, owner, annotator_user, viewer) -> APIClient:
    users = {"owner": owner, "annotator": annotator_user, "viewer": viewer}
    if persona in users:
        return api_client_for(users[persona])
    if persona == "outsider":
        return api_client_for(make_user("outsider"))
    return APIClient()


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Personas are created with passwords; the real hasher costs ~0.3 s each on a busy host.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def expectation_failure(persona: str, need: str, status: int) -> str | None:
    """Why `status` is wrong for `persona` on an operation needing `need`, or None."""
    if status >= 500:
        return "server error"
    if persona == "anonymous":
        ok = status not in (401, 403, 404) if need == PUBLIC else status in (401, 403)
    elif need in (PUBLIC, ANYONE):
        ok = status not in (401, 403, 404)
    elif persona == "outsider":
        ok = status == 404
    elif PERSONA_RANK[persona] >= RANK[need]:
        ok = status not in (401, 403, 404)
    else:
        ok = status == 403
    return None if ok else "wrong status for the role"


@pytest.mark.parametrize(
    ("name", "route", "method"), OPERATIONS, ids=[f"{m.upper()} {n}" for n, _, m in OPERATIONS]
)
def test_role_matrix(name, route, method, world, owner, annotator_user, viewer):
    """Personas go from least to most privileged on one world, so a refused call leaves the
    state the next persona sees unchanged (an allowed one, e.g. an annotator's DELETE of their
    own annotation, changes only their own rows)."""
    need = MIN_ROLE.get((name, method))
    if need is None:
        pytest.fail(f"{method.upper()} {name} is missing from MIN_ROLE")
    url = fill(route, world)
    wrong = []
    for persona in reversed(PERSONAS):
        client = client_for(persona, owner, annotator_user, viewer)
        response = getattr(client, method)(url, {}, format="json")
        why = expectation_failure(persona, need, response.status_code)
        if why:
            body = getattr(response, "content", b"")[:200]
            wrong.append(f"{method.upper()} {url} as {persona} (needs {need}): {response.status_code} {body!r}")
    assert not wrong, "\n".join(wrong)


# --- Issue 20: media and filters, for every persona -------------------------------------------


def test_an_image_is_served_to_members_only_and_never_as_a_static_file(world, owner, annotator_user, viewer):
    from annotator.models import Example
    from tests.api.world import PNG

    example = Example.objects.get(pk=world["example_id"])
    stored = example.image.name
    # The stored name carries a random token, not the upload's name or date.
    assert re.fullmatch(rf"examples/{world['project_id']}/[A-Za-z0-9_-]{{22}}\.png", stored), stored
    url = f"/api/v1/projects/{world['project_id']}/examples/{example.pk}/image"
    other_project_url = f"/api/v1/projects/{world['project_id'] + 10_000}/examples/{example.pk}/image"
    wrong = []
    for persona in PERSONAS:
        client = client_for(persona, owner, annotator_user, viewer)
        response = client.get(url)
        if persona in ("owner", "annotator", "viewer"):
            body = b"".join(response.streaming_content) if response.status_code == 200 else b""
            if response.status_code != 200 or body != PNG or response["Content-Type"] != "image/png":
                wrong.append(f"{persona}: {response.status_code} {response.get('Content-Type')}")
        elif persona == "outsider" and response.status_code != 404:
            wrong.append(f"outsider: {response.status_code}")
        elif persona == "anonymous" and response.status_code not in (401, 403):
            wrong.append(f"anonymous: {response.status_code}")
        # The static route is gone: the stored name is never a URL, for anyone.
        if client.get("/media/" + stored).status_code != 404:
            wrong.append(f"{persona}: /media/ still serves the file")
        if client.get(other_project_url).status_code not in (401, 403, 404):
            wrong.append(f"{persona}: the image is served under another project's id")
    assert not wrong, wrong
    listed = api_client_for(viewer).get(f"/api/v1/projects/{world['project_id']}/examples/{example.pk}/")
    assert listed.json()["image"].endswith(url)


def test_two_uploads_of_one_file_name_get_different_unguessable_names(world):
    from django.core.files.base import ContentFile

    from annotator.models import Example
    from tests.api.world import PNG

    example = Example.objects.get(pk=world["example_id"])
    names = set()
    for _ in range(2):
        example.image.save("flood.png", ContentFile(PNG), save=True)
        names.add(example.image.name)
    assert len(names) == 2 and not any("flood" in name for name in names)


# Filters an annotator could use to learn others' labels: what each persona may find.
# world: w1 has HS by the annotator and TR by the owner; w2 has AG by a second annotator.
FILTER_CASES = [
    # (query, examples admins and viewers find, examples an annotator finds)
    ("label=HS", {"w1"}, {"w1"}),
    ("label=TR", {"w1"}, set()),
    ("label=AG", {"w2"}, set()),
    ("annotated=true", {"w1", "w2"}, {"w1"}),
    ("annotated=false", set(), {"w2"}),
    ("source=human", {"w1", "w2"}, {"w1"}),
]


@pytest.mark.parametrize(("query", "reviewers_see", "annotator_sees"), FILTER_CASES,
                         ids=[case[0] for case in FILTER_CASES])
def test_example_filters_see_only_what_each_persona_may_read(
    query, reviewers_see, annotator_sees, world, owner, annotator_user, viewer
):
    url = f"/api/v1/projects/{world['project_id']}/examples/?{query}"
    expected = {"owner": reviewers_see, "viewer": reviewers_see, "annotator": annotator_sees}
    wrong = []
    for persona in PERSONAS:
        response = client_for(persona, owner, annotator_user, viewer).get(url)
        if persona in expected:
            found = {row["external_id"] for row in response.json()["results"]}
            if response.status_code != 200 or found != expected[persona]:
                wrong.append(f"{persona}: {response.status_code} {sorted(found)} != {sorted(expected[persona])}")
        elif response.status_code != (404 if persona == "outsider" else 401) and not (
            persona == "anonymous" and response.status_code == 403
        ):
            wrong.append(f"{persona}: {response.status_code}")
    assert not wrong, wrong


def test_counts_and_exports_see_only_what_each_persona_may_read(world, owner, annotator_user, viewer):
    project_url = f"/api/v1/projects/{world['project_id']}/"
    examples_url = f"/api/v1/projects/{world['project_id']}/examples/"
    export_url = f"/api/v1/projects/{world['project_id']}/export?format=jsonl"
    expected = {"owner": (3, 2, {"HS", "TR", "AG"}), "viewer": (3, 2, {"HS", "TR", "AG"}),
                "annotator": (1, 1, {"HS"})}
    wrong = []
    for persona, (n_annotations, annotated, labels) in expected.items():
        client = client_for(persona, owner, annotator_user, viewer)
        counts = client.get(project_url).json()["counts"]
        if (counts["annotations"], counts["annotated_examples"]) != (n_annotations, annotated):
            wrong.append(f"{persona}: project counts {counts}")
        listed = [row for row in client.get(project_url[:-1].rsplit("/", 1)[0] + "/").json()["results"]
                  if row["id"] == world["project_id"]]
        if listed[0]["counts"] != counts:
            wrong.append(f"{persona}: the project list counts {listed[0]['counts']}")
        rows = client.get(examples_url).json()["results"]
        if sum(row["annotation_count"] for row in rows) != n_annotations:
            wrong.append(f"{persona}: annotation_count {[row['annotation_count'] for row in rows]}")
        body = b"".join(client.get(export_url).streaming_content).decode()
        exported = set(re.findall(r'"(HS|TR|AG)"', body))
        if exported != labels:
            wrong.append(f"{persona}: export holds {sorted(exported)}")
    assert not wrong, wrong
