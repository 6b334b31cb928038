"""Schemathesis over the OpenAPI schema: generated requests to every operation, as the project
admin, on a project whose ids are real, must never get a server error.

Bounded so it runs as a normal test: a few examples per operation, no shrinking.
"""
from __future__ import annotations

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings

from config.wsgi import application
from tests.api.world import build_world

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))

# Server errors the fuzzer finds that another change (bad-input validation in the serializers)
# fixes; each is named with the request that caused it. Remove an entry once it passes.
KNOWN_SERVER_ERRORS: dict[str, str] = {}


@pytest.fixture
def in_test_transaction():
    """Calls into the WSGI app must not close the test's connection at request end (Django's
    test Client does the same), or the test transaction is lost after the first request."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(owner, annotator_user, viewer, settings, in_test_transaction):
    from rest_framework.authtoken.models import Token

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    ids = build_world(owner, annotator_user, viewer)
    token, _ = Token.objects.get_or_create(user=owner)
    return ids, token.key


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure reproduces
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case, admin_token):
    ids, token = admin_token
    label = f"{case.method} {case.path}"
    # Half the generated ids are the real rows, so the request reaches the view's logic.
    for name in list(case.path_parameters or {}):
        value = case.path_parameters[name]
        if name in ids and (not isinstance(value, int) or value % 2 == 0):
            case.path_parameters[name] = ids[name]
    response = case.call(app=application, headers={"Authorization": f"Token {token}"})
    if response.status_code >= 500 and label in KNOWN_SERVER_ERRORS:
        pytest.xfail(KNOWN_SERVER_ERRORS[label])
    assert response.status_code < 500, (
        f"{response.status_code} on {case.method} {case.formatted_path} "
        f"query={case.query!r} body={case.body!r}\n{response.text[:500]}"
    )
