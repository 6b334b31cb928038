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
