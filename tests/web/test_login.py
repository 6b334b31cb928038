"""Login and logout pages (Django auth views with our template)."""
from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_login_page_renders(client):
    r = client.get(reverse("login"))
    assert r.status_code == 200 and 'name="username"' in r.content.decode()


def test_logging_in_leads_to_the_project_list(client, owner):
    r = client.post(reverse("login"), {"username": "owner", "password": "pw-owner"})
    assert r.status_code == 302 and r["Location"] == reverse("project-list")
    assert client.get(reverse("project-list")).status_code == 200


def test_a_wrong_password_is_refused(client, owner):
    r = client.post(reverse("login"), {"username": "owner", "password": "nope"})
    assert r.status_code == 200 and "did not match" in r.content.decode()
    assert client.get(reverse("project-list")).status_code == 302


def test_logging_out_ends_the_session(client, owner):
    client.force_login(owner)
    r = client.post(reverse("logout"))
    assert r.status_code == 302
    assert client.get(reverse("project-list")).status_code == 302
