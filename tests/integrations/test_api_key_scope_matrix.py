"""Every REST operation of the role matrix x API keys: a key with the operation's scope is
served, a key with every other scope gets 403 naming the missing one, an operation no scope
covers is 403 for any key, and a key of another project gets the outsider's 404.

The scope each operation needs is written here (KEY_SCOPE), once, like MIN_ROLE in the role
matrix: a new route fails the first test until someone decides whether keys may call it.
"""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from integrations.api_keys.service import create_api_key
from integrations.models import Scope
from tests.api.test_role_matrix import ANYONE, MIN_ROLE, OPERATIONS, PUBLIC, fill
from tests.api.world import build_world
from tests.conftest import make_project

pytestmark = pytest.mark.django_db

ALL = list(Scope.values)
PREDICT, READ, IMPORT, EXPORT = "predict", "read", "import", "export"
# The scope a key needs per operation; None: keys may not call it (people only).
KEY_SCOPE: dict[tuple[str, str], str | None] = {
    ("api-project-predict", "post"): PREDICT,
    ("api-scoring-jobs", "get"): PREDICT,
    ("api-scoring-jobs", "post"): PREDICT,
    ("api-scoring-job", "get"): PREDICT,
    ("api-scoring-job-results", "get"): PREDICT,
    ("api-scoring-job-cancel", "post"): PREDICT,
    ("api-scoring-job-resume", "post"): PREDICT,
    ("api-project-detail", "get"): READ,
    ("api-label-list", "get"): READ,
    ("api-label-detail", "get"): READ,
    ("api-example-list", "get"): READ,
    ("api-example-detail", "get"): READ,
    ("api-example-annotations", "get"): READ,
    ("api-project-runs", "get"): READ,
    ("api-run-detail", "get"): READ,
    ("api/v1/runs/<int:run_id>/", "get"): READ,
    ("api-project-models", "get"): READ,
    ("api-model-detail", "get"): READ,
    ("api-project-predictions-status", "get"): READ,
    ("api-project-prediction-jobs", "get"): READ,
    ("api-prediction-job", "get"): READ,
    ("api-project-index", "get"): READ,
    ("api-project-samples", "get"): READ,
    ("api-sample-detail", "get"): READ,
    ("api-sample-members", "get"): READ,
    ("api-project-import", "post"): IMPORT,
    ("api-import-job-detail", "get"): IMPORT,
    ("api-project-export", "get"): EXPORT,
}
# Everything else in the role matrix is closed to keys: writing annotations, examples, labels,
# members, settings; training, promotion, predict-all; mining, embeddings, simulations,
# agreement; managing keys and webhooks; the account endpoints.


def expected_scope(name: str, method: str) -> str | None:
    return KEY_SCOPE.get((name, method))


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # The personas are created with passwords; the real hasher costs ~0.3 s each on a busy host.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(owner, annotator_user, viewer) -> dict[str, int]:
    return build_world(owner, annotator_user, viewer)


@pytest.fixture
def keys(world, owner) -> dict[str, str]:
    """Keys of the world's project: one per scope, one lacking each scope, one with all; and
    one with every scope on another project."""
    from annotator.models import Project

    project = Project.objects.get(pk=world["project_id"])
    made = {}
    for scope in ALL:
        made[f"only:{scope}"] = create_api_key(project, name=f"only {scope}", scopes=[scope]).key
        others = [s for s in ALL if s != scope]
        made[f"without:{scope}"] = create_api_key(project, name=f"no {scope}", scopes=others).key
    made["all"] = create_api_key(project, name="all", scopes=ALL).key
    elsewhere = make_project(owner, labels=("A",))
    made["elsewhere"] = create_api_key(elsewhere, name="elsewhere", scopes=ALL).key
    return made


def test_every_operation_of_the_role_matrix_is_decided_for_keys():
    from integrations.api_keys.scopes import OPERATION_SCOPES

    # KEY_SCOPE names only real operations, and the implementation's table is exactly it.
    names = {(n, m) for n, _, m in OPERATIONS}
    assert set(KEY_SCOPE) <= names, set(KEY_SCOPE) - names
    assert dict(OPERATION_SCOPES) == KEY_SCOPE


@pytest.mark.parametrize(
    ("name", "route", "method"), OPERATIONS, ids=[f"{m.upper()} {n}" for n, _, m in OPERATIONS]
)
def test_key_scope_matrix(name, route, method, world, keys):
    url = fill(route, world)
    need = expected_scope(name, method)
    wrong: list[str] = []

    def call(label: str):
        response = getattr(key_client(keys[label]), method)(url, {}, format="json")
        if response.status_code >= 500:
            wrong.append(f"{label}: server error {response.status_code}")
        return response

    if need is None:
        response = call("all")
        body = response.json() if response.status_code == 403 else {}
        if response.status_code != 403 or body.get("missing_scope", "absent") is not None:
            wrong.append(f"all scopes: expected 403 (no scope covers it), got {response.status_code} {response.content[:200]!r}")
    else:
        served = call(f"only:{need}")
        if served.status_code in (401, 403, 404):
            wrong.append(f"only {need}: refused {served.status_code} {served.content[:200]!r}")
        refused = call(f"without:{need}")
        body = refused.json() if refused.status_code == 403 else {}
        if refused.status_code != 403 or body.get("missing_scope") != need or need not in body.get("detail", ""):
            wrong.append(f"without {need}: expected 403 naming {need!r}, got {refused.status_code} {refused.content[:200]!r}")
        if MIN_ROLE[(name, method)] not in (ANYONE, PUBLIC):
            other = call("elsewhere")
            if other.status_code != 404:
                wrong.append(f"another project's key: expected 404, got {other.status_code}")
    assert not wrong, f"{method.upper()} {url}:\n" + "\n".join(wrong)
