"""Safe defaults: debug off, a required secret key, HTTPS settings, the CSP header, and error
pages that never show a traceback or the environment."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_CODE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({k: getattr(s, k, None) for k in ["
    "'DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', "
    "'SECURE_PROXY_SSL_HEADER', 'SECURE_SSL_REDIRECT', 'SECRET_KEY']} | "
    "{'CONN_HEALTH_CHECKS': s.DATABASES['default']['CONN_HEALTH_CHECKS']}))"
)


def run_settings(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    # Outside pytest's own environment: no PYTEST_VERSION, no inherited Vigia switches.
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("VIGIA_", "PYTEST_")) and k not in {"DATABASE_URL"}}
    clean.update({"VIGIA_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "config.settings"}, **env)
    return subprocess.run([sys.executable, "-c", SETTINGS_CODE], cwd=ROOT, env=clean,
                          capture_output=True, text=True)


def settings_of(env: dict[str, str], tmp_path: Path) -> dict:
    done = run_settings(env, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    done = run_settings({}, tmp_path)
    assert done.returncode != 0
    assert "VIGIA_SECRET_KEY is required when VIGIA_DEBUG is false" in done.stderr


def test_debug_is_off_by_default_and_connections_are_health_checked(tmp_path):
    found = settings_of({"VIGIA_SECRET_KEY": "k" * 50}, tmp_path)
    assert found["DEBUG"] is False and found["SECRET_KEY"] == "k" * 50
    assert found["CONN_HEALTH_CHECKS"] is True
    assert found["SESSION_COOKIE_SECURE"] is False and found["SECURE_HSTS_SECONDS"] == 0


def test_the_demo_generates_a_private_key_once_and_later_processes_reuse_it(tmp_path):
    first = settings_of({"VIGIA_DEMO": "true"}, tmp_path)["SECRET_KEY"]
    key_file = tmp_path / "var" / "secret_key"
    assert len(first) >= 50 and key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A CLI command on the same var/ without VIGIA_DEMO uses the same key.
    assert settings_of({}, tmp_path)["SECRET_KEY"] == first


def test_https_switches_on_secure_cookies_hsts_and_the_proxy_header(tmp_path):
    found = settings_of({"VIGIA_SECRET_KEY": "k" * 50, "VIGIA_HTTPS": "true"}, tmp_path)
    assert found["SESSION_COOKIE_SECURE"] is True and found["CSRF_COOKIE_SECURE"] is True
    assert found["SECURE_HSTS_SECONDS"] == 31536000
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert found["SECURE_SSL_REDIRECT"] is True
    found = settings_of({"VIGIA_SECRET_KEY": "k" * 50, "VIGIA_HTTPS": "1",
                         "VIGIA_HSTS_SECONDS": "600", "VIGIA_SSL_REDIRECT": "false"}, tmp_path)
    assert found["SECURE_HSTS_SECONDS"] == 600 and found["SECURE_SSL_REDIRECT"] is False


@pytest.mark.django_db
def test_https_behind_a_proxy_sets_hsts_and_secure_cookies(client, settings, owner):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = True
    plain = client.get("/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000"
    assert "secure" in str(secure.cookies["csrftoken"]).lower()


@pytest.mark.django_db
def test_every_page_carries_the_content_security_policy_without_inline_script(client):
    response = client.get("/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    # The templates rely on it: no inline <script> body, no on* handler attributes.
    for page in (ROOT / "templates").rglob("*.html"):
        text = page.read_text()
        assert "<script>" not in text and " onclick=" not in text and "javascript:" not in text, page


@pytest.mark.django_db
def test_a_server_error_shows_the_styled_page_and_nothing_of_the_server(client, settings):
    settings.ROOT_URLCONF = "tests.setup.boom_urls"
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page and "vigia.css" in page
    for secret in ("Traceback", "RuntimeError", "boom: a bug", "DATABASE_URL",
                   os.environ.get("DATABASE_URL", "postgres://"), settings.SECRET_KEY):
        assert secret not in page


@pytest.mark.django_db
def test_an_unknown_page_is_the_styled_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Not found" in page and "topnav" in page and "Traceback" not in page
