"""Issue 20: one JSON parser for every endpoint, one guard for query parameters, one number
parser; hostile values are 400s naming the field, never a 500.

The JSON cases run against every REST operation that takes a body (discovered from the URL
configuration, like the role matrix), so a new endpoint is covered by itself.
"""
from __future__ import annotations

import json
import math
import re

import pytest

from config.inputs import InvalidInput, loads_json, parse_float, parse_int
from tests.api.test_role_matrix import OPERATIONS, fill
from tests.api.world import build_world

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000
BODY_OPERATIONS = [(name, route, method) for name, route, method in OPERATIONS
                   if method in ("post", "put", "patch")]


def takes_json(route: str, method: str) -> bool:
    """Whether the OpenAPI schema documents a JSON body for the operation (the others never
    read one: a body sent anyway is ignored, never parsed)."""
    from drf_spectacular.generators import SchemaGenerator

    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    body = _SCHEMA["paths"].get(path, {}).get(method, {}).get("requestBody")
    return bool(body) and "application/json" in body.get("content", {})


_SCHEMA: dict | None = None


@pytest.fixture
def world(owner, annotator_user, viewer, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_world(owner, annotator_user, viewer)


HOSTILE_BODIES = {
    "nested 1000 deep": (DEEP, "body"),
    # Past the decoder's recursion limit no field can be named; below it, the walk names it.
    "nested 1000 deep in a field": ('{"config": ' + DEEP + "}", "body"),
    "nested 200 deep in a field": ('{"config": ' + "[" * 200 + "]" * 200 + "}", "config"),
    "NaN": ('{"n": NaN}', "n"),
    "Infinity": ('{"k": -Infinity}', "k"),
    "1e400": ('{"seed": 1e400}', "seed"),
    "an integer past int64": ('{"size": 99999999999999999999999}', "size"),
    "5000 digits": ('{"p": ' + "9" * 5000 + "}", "p"),
}


@pytest.mark.parametrize(("name", "route", "method"), BODY_OPERATIONS,
                         ids=[f"{m.upper()} {n}" for n, _, m in BODY_OPERATIONS])
def test_every_json_endpoint_refuses_hostile_json_naming_the_field(owner_api, world, name, route, method):
    wrong = []
    for case, (body, field) in HOSTILE_BODIES.items():
        response = getattr(owner_api, method)(fill(route, world), body, content_type="application/json")
        if not takes_json(route, method):  # no body documented: ignored, or refused as unsupported
            if response.status_code >= 500:
                wrong.append((case, response.status_code))
        elif response.status_code != 400 or field not in response.json():
            wrong.append((case, response.status_code, response.content[:200]))
    assert wrong == []


INT_FIELDS = [
    # (route, base body, field): every integer a service parses from a body
    ("projects/{project_id}/mining", {"label": "HS"}, "band"),
    ("projects/{project_id}/mining", {"label": "HS"}, "n"),
    ("projects/{project_id}/mining", {"label": "HS"}, "p"),
    ("projects/{project_id}/mining", {"label": "HS"}, "seed"),
    ("projects/{project_id}/samples", {"field": "event", "classes": ["a"]}, "size"),
    ("projects/{project_id}/samples", {"field": "event", "classes": ["a"]}, "seed"),
    ("projects/{project_id}/samples", {"field": "event"}, "quantiles"),
    ("projects/{project_id}/search", {"text": "flooding"}, "k"),
    ("projects/{project_id}/prediction-jobs", {}, "chunk_size"),
]


@pytest.mark.parametrize(("route", "base", "field"), INT_FIELDS, ids=[f"{r} {f}" for r, _, f in INT_FIELDS])
def test_integer_fields_refuse_what_is_not_an_integer_in_range(owner_api, world, route, base, field):
    # As strings (form-like JSON values) the JSON parser lets them through to the number parser.
    wrong = []
    for value in ["1e400", "inf", "NaN", "12.5", "9" * 40, True]:
        response = owner_api.post("/api/v1/" + route.format(**world), {**base, field: value}, format="json")
        if response.status_code != 400 or field not in response.json():
            wrong.append((value, response.status_code, response.content[:200]))
    assert wrong == []


def test_null_where_a_number_is_expected_means_the_default(owner_api, project):
    from tests.api.factories import make_example

    for i in range(8):
        make_example(project, f"tweet {i}", meta={"event": "ab"[i % 2]})
    design = {"field": "event", "classes": ["a", "b"], "target_cv": 0.5, "preview": True}
    with_null = owner_api.post(f"/api/v1/projects/{project.pk}/samples",
                               {**design, "expected_p": None, "seed": None, "size": None}, format="json")
    default = owner_api.post(f"/api/v1/projects/{project.pk}/samples", design, format="json")
    assert with_null.status_code == 200, with_null.content[:300]  # it was a TypeError, a 500
    assert with_null.json() == default.json()


QUERY_CASES = [
    # (url, the parameter a NUL, NaN or infinity is named by)
    ("/api/v1/projects/{project_id}/browse?q=a%00b", "q"),
    ("/api/v1/projects/{project_id}/browse?label=%00", "label"),
    ("/api/v1/mining/{mining_run_id}/proposals?status=%00", "status"),
    ("/api/v1/projects/{project_id}/examples/?search=%00", "search"),
    ("/api/v1/projects/{project_id}/index?label=HS&k=nan", "k"),
    ("/api/v1/projects/{project_id}/index?label=HS&k=inf", "k"),
    ("/api/v1/projects/{project_id}/index?label=HS&k=-Infinity", "k"),
    ("/api/v1/projects/{project_id}/index?label=HS&k=1e400", "k"),
    ("/api/v1/projects/{project_id}/browse?score_min=nan", "score_min"),
    ("/api/v1/projects/{project_id}/browse?score_max=inf", "score_max"),
    ("/api/v1/projects/{project_id}/examples/{example_id}/similar?k=inf", "k"),
    ("/api/v1/projects/{project_id}/examples/?a%00b=1", "a\x00b"),
    # an offset that takes the date-time past year 1 once in UTC
    ("/api/v1/projects/{project_id}/examples/?created_after=0001-01-01T00:00:00%2B20:45",
     "created_after"),
]


def test_nul_nan_and_infinity_in_a_query_are_400s_naming_the_parameter(owner_api, world):
    from models_zoo.models import ModelVersion

    ModelVersion.objects.filter(project_id=world["project_id"]).update(is_current=True)
    wrong = []
    for url, param in QUERY_CASES:
        response = owner_api.get(url.format(**world))
        if response.status_code != 400 or param not in response.json():
            wrong.append((url, response.status_code, response.content[:200]))
    assert wrong == []


def test_a_time_zone_offset_postgresql_does_not_take_is_compared_in_utc(owner_api, world):
    """Found by the long schema fuzz: Python takes offsets up to 23:59, PostgreSQL up to 15:59,
    so `+20:45` reached the database and was a 500. The filter now compares in UTC."""
    url = "/api/v1/projects/{project_id}/examples/?created_before=1755-04-04T08:10:14%2B20:45"
    response = owner_api.get(url.format(**world))
    assert response.status_code == 200, response.content[:300]
    assert response.json()["count"] == 0  # nothing was created in 1755
    later = owner_api.get("/api/v1/projects/{project_id}/examples/?created_after=2000-01-01T00:00:00%2B20:45"
                          .format(**world))
    assert later.status_code == 200 and later.json()["count"] > 0


PAGE_CASES = [
    "/projects/{project_id}/data/?q=a%00b",
    "/projects/{project_id}/data/?label=%00",
    "/projects/{project_id}/data/?score_min=nan",
    "/projects/{project_id}/index/?label=HS&k=inf",
    "/models/projects/{project_id}/compare/?v=%00",
    "/projects/{project_id}/?x=%00",
]


def test_pages_answer_the_same_400_naming_the_parameter(client, owner, world):
    client.force_login(owner)
    wrong = []
    for url in PAGE_CASES:
        response = client.get(url.format(**world))
        page = response.content.decode()
        if response.status_code != 400 or "Vigia" not in page or "Traceback" in page:
            wrong.append((url, response.status_code))
    assert wrong == []


# --- the shared parsers themselves ------------------------------------------------------------


def test_loads_json_caps_depth_and_names_the_top_field():
    with pytest.raises(InvalidInput) as caught:
        loads_json('{"meta": ' + "[" * 65 + "]" * 65 + "}")
    assert caught.value.field == "meta" and "64 levels" in caught.value.message
    assert isinstance(loads_json('{"meta": ' + "[" * 63 + "]" * 63 + "}")["meta"], list)  # 64 is fine
    with pytest.raises(InvalidInput, match="64 levels"):
        loads_json("[" * 100_000)


@pytest.mark.parametrize(("text", "field"), [
    ('{"a": NaN}', "a"), ('{"a": [1, Infinity]}', "a.1"), ('{"a": {"b": 1e999}}', "a.b"),
    ('{"a": 9223372036854775808}', "a"), ('{"a": -9223372036854775809}', "a"),
    ('{"a": "x\\u0000"}', "a"), ('{"a": ["\\udfff"]}', "a.0"),
])
def test_loads_json_names_the_exact_value(text, field):
    with pytest.raises(InvalidInput) as caught:
        loads_json(text)
    assert caught.value.field == field


def test_loads_json_keeps_ordinary_values():
    value = loads_json('{"a": [1, 2.5, -9223372036854775808, 9223372036854775807, "é", null, true]}')
    assert value == {"a": [1, 2.5, -(2**63), 2**63 - 1, "é", None, True]}


@pytest.mark.parametrize(("value", "expected"), [
    ("12", 12), (" 7 ", 7), (3.0, 3), (0, 0), (None, "default"), ("", "default"),
])
def test_parse_int_accepts_integers_and_gives_the_default_for_null(value, expected):
    assert parse_int(value, "n", default="default", lo=0, hi=100) == expected


@pytest.mark.parametrize("value", [True, "abc", 1.5, math.inf, math.nan, "1e400", 101, -1, "9" * 5000, [1], {}])
def test_parse_int_refuses_the_rest_naming_the_field(value):
    with pytest.raises(InvalidInput) as caught:
        parse_int(value, "n", lo=0, hi=100)
    assert caught.value.field == "n"


def test_parse_int_without_a_default_refuses_null():
    with pytest.raises(InvalidInput, match="not null"):
        parse_int(None, "chunk_size")


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1e400", math.inf, 10**400, True, "x", None])
def test_parse_float_refuses_non_finite_and_non_numbers(value):
    with pytest.raises(InvalidInput):
        parse_float(value, "k")


def test_the_json_parser_body_error_is_rest_shaped(owner_api, world):
    response = owner_api.post(f"/api/v1/projects/{world['project_id']}/mining", "{not json",
                              content_type="application/json")
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]
    ok = owner_api.post(f"/api/v1/projects/{world['project_id']}/mining",
                        json.dumps({"label": "HS", "band": 7}), content_type="application/json")
    assert ok.status_code == 400 and "band" in ok.json()
