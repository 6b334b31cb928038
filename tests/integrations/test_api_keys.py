"""Project API keys over REST: created once-shown, listed without secrets, hashed, expiring,
revocable, throttled per key; and model_version pinning on predict."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from annotator.models import Membership, Role
from integrations.api_keys.secrets import hash_key
from integrations.api_keys.service import create_api_key
from integrations.models import ApiKey
from tests.conftest import make_project

pytestmark = pytest.mark.django_db


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def create(owner_api, project, **body):
    body.setdefault("name", "dashboard")
    body.setdefault("scopes", ["read"])
    return owner_api.post(f"/api/v1/projects/{project.pk}/api-keys", body, format="json")


def test_it_creates_a_key_shown_once_and_lists_keys_without_it(owner_api, project):
    res = create(owner_api, project, scopes=["predict", "read"])
    assert res.status_code == 201, res.json()
    body = res.json()
    assert body["key"].startswith("vgk_") and len(body["key"]) > 40
    assert set(body) >= {"id", "key", "scopes", "expires_at", "last_used_at"}
    listed = owner_api.get(f"/api/v1/projects/{project.pk}/api-keys").json()
    assert [k["id"] for k in listed] == [body["id"]]
    assert "key" not in listed[0] and body["key"] not in str(listed)
    assert listed[0]["prefix"] == body["key"][:12]
    assert listed[0]["scopes"] == ["predict", "read"]


def test_it_refuses_bad_keys_naming_the_field(owner_api, project):
    assert create(owner_api, project, name="").json() == {"name": [
        "give the key a name (e.g. the system that will use it)."]}
    res = create(owner_api, project, scopes=["read", "delete-everything"])
    assert res.status_code == 400 and "delete-everything" in res.json()["scopes"][0]
    assert create(owner_api, project, scopes=[]).status_code == 400
    res = create(owner_api, project, expires_at="2001-01-01")
    assert res.status_code == 400 and "past" in res.json()["expires_at"][0]
    assert create(owner_api, project, expires_at="next tuesday").status_code == 400
    assert not ApiKey.objects.exists()


def test_only_admins_manage_keys(viewer_api, annotator_api, project):
    assert create(viewer_api, project).status_code == 403
    assert create(annotator_api, project).status_code == 403


def test_a_key_reads_its_project_and_records_when_it_was_used(owner_api, project):
    key = create(owner_api, project).json()["key"]
    assert ApiKey.objects.get().last_used_at is None
    res = key_client(key).get(f"/api/v1/projects/{project.pk}/")
    assert res.status_code == 200 and res.json()["name"] == project.name
    assert ApiKey.objects.get().last_used_at is not None


def test_the_secret_is_stored_hashed_and_never_logged(owner_api, project, caplog):
    caplog.set_level(logging.DEBUG)
    key = create(owner_api, project, scopes=["read"]).json()["key"]
    client = key_client(key)
    client.get(f"/api/v1/projects/{project.pk}/examples/")
    client.post(f"/api/v1/projects/{project.pk}/train", {}, format="json")  # 403: out of scope
    key_client(key + "x").get(f"/api/v1/projects/{project.pk}/")  # 401: wrong key
    body = key[len("vgk_"):]
    # No column of any table holds the key or its random part: only its SHA-256.
    with connection.cursor() as cur:
        tables = connection.introspection.table_names(cur)
        hits = []
        for table in tables:
            cur.execute(f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE %s', [f"%{body[8:]}%"])
            if cur.fetchone()[0]:
                hits.append(table)
    assert hits == []
    assert ApiKey.objects.get().hashed_key == hash_key(key)
    logged = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert caplog.records, "the requests were logged at all"
    assert body[8:] not in logged


def test_a_revoked_key_is_refused(owner_api, project):
    created = create(owner_api, project).json()
    client = key_client(created["key"])
    assert client.get(f"/api/v1/projects/{project.pk}/").status_code == 200
    assert owner_api.delete(f"/api/v1/api-keys/{created['id']}").status_code == 204
    res = client.get(f"/api/v1/projects/{project.pk}/")
    assert res.status_code == 401 and "revoked" in res.json()["detail"]
    listed = owner_api.get(f"/api/v1/projects/{project.pk}/api-keys").json()
    assert listed[0]["state"] == "revoked"


def test_an_expired_key_is_refused(owner_api, project):
    tomorrow = (timezone.now() + dt.timedelta(days=1)).isoformat()
    created = create(owner_api, project, expires_at=tomorrow).json()
    client = key_client(created["key"])
    assert client.get(f"/api/v1/projects/{project.pk}/").status_code == 200
    ApiKey.objects.filter(pk=created["id"]).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    res = client.get(f"/api/v1/projects/{project.pk}/")
    assert res.status_code == 401 and "expired" in res.json()["detail"]


def test_a_key_is_no_member_and_cannot_log_in(owner, owner_api, project, client):
    created = create(owner_api, project, scopes=["import"]).json()
    principal = ApiKey.objects.get(pk=created["id"]).principal
    assert not principal.is_active and not principal.has_usable_password()
    assert not Membership.objects.filter(user=principal).exists()
    # The members page cannot add it: it is not an active user.
    client.force_login(owner)
    res = client.post(f"/projects/{project.pk}/members/",
                      {"action": "add", "username": principal.username, "role": Role.ADMIN})
    assert res.status_code == 400 and not Membership.objects.filter(user=principal).exists()
    # A project API key does not see other projects, even with every scope.
    other = make_project(owner, labels=("A",))
    assert key_client(created["key"]).get(f"/api/v1/projects/{other.pk}/").status_code == 403  # no read scope
    everything = create_api_key(project, name="all", scopes=["predict", "read", "import", "export"]).key
    assert key_client(everything).get(f"/api/v1/projects/{other.pk}/").status_code == 404


def test_keys_are_throttled_each_on_its_own(settings, owner_api, project):
    settings.VIGIA_API_KEY_RATE = "3/min"
    first = key_client(create(owner_api, project, name="a").json()["key"])
    second = key_client(create(owner_api, project, name="b").json()["key"])
    url = f"/api/v1/projects/{project.pk}/"
    assert [first.get(url).status_code for _ in range(3)] == [200, 200, 200]
    limited = first.get(url)
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 60
    assert "throttled" in limited.json()["detail"].lower()
    assert second.get(url).status_code == 200  # its own budget
    assert [owner_api.get(url).status_code for _ in range(5)] == [200] * 5  # people are not throttled


def test_deleting_the_project_removes_its_keys_and_their_service_users(owner, project):
    from django.contrib.auth import get_user_model

    from annotator.services.project_setup import delete_project

    created = create_api_key(project, name="k", scopes=["read"])
    principal_id = created.api_key.principal_id
    delete_project(project)
    assert not ApiKey.objects.exists()
    assert not get_user_model().objects.filter(pk=principal_id).exists()
