"""Issue 11: ordinary bad input is a 400 naming the field, never a 500.

Every writable field of every input serializer gets NUL, a lone surrogate, 2**63, -1 and a huge
string; then the cases that used to be 500s are checked by hand."""
from __future__ import annotations

import json

import pytest

from annotator.api import serializers as s
from annotator.models import Example, Label, Membership
from models_zoo.api.serializers import TrainRequestSerializer

pytestmark = pytest.mark.django_db

BAD_VALUES = ["bad\x00value", "lone \ud800 surrogate", 2**63, -1, "x" * 50_000]


def writable(serializer_class) -> list[str]:
    return [name for name, field in serializer_class().fields.items() if not field.read_only]


def shaped(field, value):
    """The bad value where the field expects it (inside the list or object it takes)."""
    from rest_framework import serializers as rf

    if isinstance(field, rf.ListSerializer):
        return [{name: value for name in field.child.fields}]
    if isinstance(field, rf.ListField):
        return [value]
    if isinstance(field, rf.DictField):
        return {"key": value}
    return value


def body_for(serializer_class, name, value, base):
    field = serializer_class().fields[name]
    return {**base, name: shaped(field, value)}


@pytest.fixture
def world(project):
    example = Example.objects.create(project=project, text="hello", normalized_text="hello", content_hash="h1")
    label = project.labels.first()
    member = Membership.objects.get(project=project, role="annotator")
    return {"p": project.pk, "e": example.pk, "label": label.pk, "m": member.pk}


CASES = [
    ("post", "/api/v1/projects/", s.ProjectCreateSerializer, {"name": "p", "task_type": "multilabel", "labels": ["A"]}),
    ("patch", "/api/v1/projects/{p}/", s.ProjectUpdateSerializer, {}),
    ("post", "/api/v1/projects/{p}/labels/", s.LabelSerializer, {"name": "NEW"}),
    ("patch", "/api/v1/projects/{p}/labels/{label}/", s.LabelSerializer, {}),
    ("post", "/api/v1/projects/{p}/members/", s.MemberAddSerializer, {}),
    ("patch", "/api/v1/projects/{p}/members/{m}/", s.MemberUpdateSerializer, {}),
    ("post", "/api/v1/projects/{p}/examples/", s.ExampleWriteSerializer, {"text": "a new tweet"}),
    ("patch", "/api/v1/projects/{p}/examples/{e}/", s.ExampleWriteSerializer, {}),
    ("post", "/api/v1/projects/{p}/examples/{e}/annotations", s.AnnotationInputSerializer, {}),
    ("post", "/api/v1/projects/{p}/train", TrainRequestSerializer, {"backend": "embedding_head"}),
]


@pytest.mark.parametrize(("method", "route", "serializer_class", "base"), CASES, ids=[c[1] + c[0] for c in CASES])
def test_no_writable_field_gives_a_server_error(owner_api, world, method, route, serializer_class, base):
    url = route.format(**world)
    failures = []
    for name in writable(serializer_class):
        for value in BAD_VALUES:
            body = body_for(serializer_class, name, value, base)
            response = getattr(owner_api, method)(url, json.dumps(body), content_type="application/json")
            if response.status_code >= 500:
                failures.append((name, repr(value)[:40], response.status_code))
            elif response.status_code == 400 and isinstance(value, str) and value != "x" * 50_000:
                if "\x00" in value or "\ud800" in value:
                    if name not in response.content.decode():
                        failures.append((name, repr(value)[:40], response.content[:200]))
    assert failures == []


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"text": "nul\x00inside"}, "text", "contains a NUL character (U+0000) at character 4"),
        ({"text": "lone \ud800"}, "text", "contains a lone surrogate (U+D800)"),
        ({"text": "fine", "meta": {"author": "a\x00b"}}, "meta.author", "contains a NUL character"),
        ({"text": "fine", "meta": {"a\x00": 1}}, "meta", "a key contains a NUL character"),
    ],
)
def test_nul_and_surrogates_in_a_json_body_name_the_field(owner_api, project, body, field, message):
    response = owner_api.post(
        f"/api/v1/projects/{project.pk}/examples/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert not Example.objects.filter(project=project).exists()


def test_integers_beyond_the_column_range_are_400s_naming_the_field(owner_api, project):
    label = project.labels.first()
    cases = [
        ("patch", f"/api/v1/projects/{project.pk}/", {"retrain_every": 2**63}, "retrain_every"),
        ("patch", f"/api/v1/projects/{project.pk}/", {"retrain_every": 2**31}, "retrain_every"),
        ("post", f"/api/v1/projects/{project.pk}/labels/", {"name": "X", "order": 2**63}, "order"),
        ("patch", f"/api/v1/projects/{project.pk}/labels/{label.pk}/", {"order": 2**31}, "order"),
        ("post", f"/api/v1/projects/{project.pk}/members/", {"user": 2**64}, "user"),
        ("post", "/api/v1/projects/", {"name": "p", "task_type": "binary", "labels": ["A"], "retrain_every": 2**63}, "retrain_every"),
    ]
    for method, url, body, field in cases:
        response = getattr(owner_api, method)(url, body, format="json")
        assert response.status_code == 400, (url, body, response.content)
        assert field in response.json(), response.json()
    # The largest value the column holds is still accepted.
    response = owner_api.patch(f"/api/v1/projects/{project.pk}/labels/{label.pk}/", {"order": 2**31 - 1}, format="json")
    assert response.status_code == 200
    assert Label.objects.get(pk=label.pk).order == 2**31 - 1


def test_span_offsets_beyond_range_are_400s(owner_api, owner):
    from tests.conftest import make_project

    spans = make_project(owner, "spans", ("place",))
    example = Example.objects.create(project=spans, text="in Paris", normalized_text="in paris", content_hash="h")
    response = owner_api.post(
        f"/api/v1/projects/{spans.pk}/examples/{example.pk}/annotations",
        {"spans": [{"start": 2**63, "end": 2**63 + 1, "label": "place"}]}, format="json",
    )
    assert response.status_code == 400
    # The JSON parser names the exact value (spans.0.start) before the serializer sees it.
    assert any(key.split(".")[0] == "spans" for key in response.json())


def test_a_multipart_form_field_with_nul_is_a_400_naming_it(owner_api, project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = owner_api.post(
        f"/api/v1/projects/{project.pk}/import",
        {"file": SimpleUploadedFile("a.csv", b"text\nfine\n"), "format": "csv", "mapping": '{"text": "a\x00"}'},
        format="multipart",
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["mapping"][0]
