"""POST /api/v1/auth/token"""

from __future__ import annotations

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def test_it_issues_a_token_that_authenticates(project, annotator_user):
    response = APIClient().post(
        "/api/v1/auth/token", {"username": "annotator", "password": "pw-annotator"}, format="json"
    )
    assert response.status_code == 200
    key = response.json()["token"]
    assert Token.objects.get(user=annotator_user).key == key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(f"/api/v1/projects/{project.pk}/").json()["role"] == "annotator"


def test_it_rejects_a_wrong_password(annotator_user):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "annotator", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert not Token.objects.exists()


def test_session_auth_works_for_browser_callers(project, annotator_user, client):
    client.force_login(annotator_user)
    assert client.get(f"/api/v1/projects/{project.pk}/").json()["role"] == "annotator"
