"""Schemathesis over the OpenAPI schema, as the project admin, on a project whose ids are real:
no server error, and every response conforms to its documented schema.

- Stateless: every operation, with generated requests plus hostile ones (the strategies below:
  JSON nested past the parser's limit, numbers beyond int64 and non-finite ones, NUL and lone
  surrogates in strings and query parameters). Half the path ids are the world's real rows.
- Stateful: schemathesis chains operations through OpenAPI links (inferred from the response
  schemas and path parameters), so ids a POST creates are used by the next GETs, PATCHes and
  DELETEs instead of hitting 404s.

Bounded so the default suite stays fast (about a minute here); `-m slow` runs the longer
profile (VIGIA_FUZZ_EXAMPLES / VIGIA_FUZZ_STEPS raise it further).
"""
from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from tests.api.world import build_world

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
CHECKS = [not_a_server_error, response_schema_conformance]

# --- hostile strategies -------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    return b'{"a": ' + b"[" * depth + b"]" * depth + b"}"


HOSTILE_NUMBERS = st.one_of(
    st.integers(min_value=2**63, max_value=2**256),
    st.integers(min_value=-(2**256), max_value=-(2**63) - 1),
    st.sampled_from([1e308, -1e308, 5e-324]),
)
# What no JSON encoder writes (the client refuses NaN): spliced into a body's text.
NON_FINITE = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "[" * 200 + "]" * 200])
HOSTILE_STRINGS = st.text(alphabet=st.sampled_from(["\x00", "\ud800", "\udfff", "a", "é"]), min_size=1, max_size=6)
HOSTILE_VALUES = st.one_of(HOSTILE_NUMBERS, HOSTILE_STRINGS, st.lists(HOSTILE_STRINGS, max_size=2))
# Whole bodies as raw JSON text: what a Python encoder cannot write (1e400, deep nesting).
HOSTILE_RAW = st.one_of(
    st.integers(min_value=65, max_value=3000).map(nested),
    st.sampled_from([b'{"n": 1e400}', b'{"k": NaN}', b'{"seed": -Infinity}', b"[" * 5000]),
)
# Query values a number parser must refuse, and characters no query parameter may hold.
HOSTILE_QUERY = st.sampled_from(["nan", "inf", "-Infinity", "1e400", "9" * 40, "a\x00b", "\x00"])


def hostile_body(body: Any) -> st.SearchStrategy:
    """The generated JSON body, the same body with one field replaced by a hostile value, or a
    hostile body altogether (raw bytes: what a JSON encoder would not write)."""
    if isinstance(body, dict) and body:
        keys = st.sampled_from(sorted(body))
        replaced = st.builds(lambda key, value: {**body, key: value}, keys, HOSTILE_VALUES)
        spliced = st.builds(
            lambda key, text: json.dumps({**body, key: "\x00SPLICE"}).replace('"\\u0000SPLICE"', text).encode(),
            keys, NON_FINITE,
        )
        return st.one_of(st.just(body), replaced, spliced, HOSTILE_RAW)
    if isinstance(body, (dict, list)):
        return st.one_of(st.just(body), HOSTILE_RAW)
    return st.just(body)


@schema.hook
def flatmap_case(context: Any, case: Any) -> st.SearchStrategy:
    """Hostile bodies for JSON operations only: a form or multipart field cannot even carry a
    lone surrogate (the client fails to encode it, before any request)."""
    if case.media_type is None or "json" not in case.media_type:
        return st.just(case)

    def with_body(body: Any) -> Any:
        case.body = body
        return case

    return hostile_body(case.body).map(with_body)


@schema.hook
def flatmap_query(context: Any, query: Any) -> st.SearchStrategy:
    if isinstance(query, dict) and query:
        return st.one_of(
            st.just(query),
            st.builds(lambda key, value: {**query, key: value}, st.sampled_from(sorted(query)), HOSTILE_QUERY),
        )
    return st.just(query)


# --- fixtures ---------------------------------------------------------------------------------


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


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """One world for the module, committed once (building it for each of ~75 operations cost
    minutes); every test runs in its own transaction, rolled back, on top of it."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from annotator.models import Project

    with django_db_blocker.unblock():
        User = get_user_model()
        users = [User.objects.create_user(f"fuzz-{name}", password="unused")
                 for name in ("owner", "annotator", "viewer")]
        ids = build_world(*users)
        token = Token.objects.create(user=users[0]).key
    yield ids, token
    with django_db_blocker.unblock():
        Project.objects.filter(pk=ids["project_id"]).delete()
        User.objects.filter(username__in=[u.username for u in users] + ["second-annotator"]).delete()


@pytest.fixture
def admin_token(shared_world, db, settings, in_test_transaction, tmp_path):
    settings.VIGIA_UPLOAD_DIR = tmp_path / "uploads"
    settings.VIGIA_ARTIFACTS_DIR = tmp_path / "artifacts"
    return shared_world


def real_ids(case: Any, ids: dict[str, int]) -> None:
    """Half the generated ids become the world's real rows, so requests reach the views' logic."""
    for name in list(case.path_parameters or {}):
        value = case.path_parameters[name]
        if name in ids and (not isinstance(value, int) or value % 2 == 0):
            case.path_parameters[name] = ids[name]


def failure_message(case: Any, response: Any) -> str:
    return (f"{response.status_code} on {case.method} {case.formatted_path} query={case.query!r} "
            f"body={case.body!r}"[:600] + f"\n{response.text[:500]}")


# --- stateless ----------------------------------------------------------------------------------

EXAMPLES = int(os.environ.get("VIGIA_FUZZ_EXAMPLES", "0"))


def check_one(case: Any, ids: dict[str, int], token: str) -> None:
    real_ids(case, ids)
    response = case.call(app=application, headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, failure_message(case, response)
    case.validate_response(response, checks=CHECKS)


def stateless_settings(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None,
        derandomize=True,  # the same requests on every run: a failure reproduces
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )


@schema.parametrize()
@stateless_settings(EXAMPLES or 4)
def test_no_server_errors_and_documented_responses(case, admin_token):
    check_one(case, *admin_token)


@pytest.mark.slow
@schema.parametrize()
@stateless_settings(60)
def test_no_server_errors_long_profile(case, admin_token):
    check_one(case, *admin_token)


# --- stateful -------------------------------------------------------------------------------------


def machine_for(ids: dict[str, int], token: str) -> type:
    class Machine(schema.as_state_machine()):  # type: ignore[misc, valid-type]
        # Every scenario starts from the same world (hypothesis replays choices and expects the
        # same answers): what a scenario creates is rolled back before the next one.
        def setup(self) -> None:
            from django.db import transaction

            self._savepoint = transaction.savepoint()

        def teardown(self) -> None:
            from django.db import transaction

            transaction.savepoint_rollback(self._savepoint)

        def before_call(self, case: Any) -> None:
            if not case.path_parameters:
                return
            # Inferred links fill the ids they know; the rest start from the world's rows.
            for name, value in case.path_parameters.items():
                if name in ids and not isinstance(value, int):
                    case.path_parameters[name] = ids[name]

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"app": application, "headers": {"Authorization": f"Token {token}"}}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            assert response.status_code < 500, failure_message(case, response)
            case.validate_response(response, checks=CHECKS)

    return Machine


def stateful_settings(examples: int, steps: int) -> settings:
    return settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, derandomize=True,
        phases=[Phase.generate], suppress_health_check=list(HealthCheck),
    )


def test_stateful_chains_reuse_created_ids(admin_token):
    ids, token = admin_token
    examples = int(os.environ.get("VIGIA_FUZZ_EXAMPLES", "0")) or 12
    steps = int(os.environ.get("VIGIA_FUZZ_STEPS", "0")) or 6
    machine_for(ids, token).run(settings=stateful_settings(examples, steps))


@pytest.mark.slow
def test_stateful_long_profile(admin_token):
    ids, token = admin_token
    machine_for(ids, token).run(settings=stateful_settings(300, 12))
