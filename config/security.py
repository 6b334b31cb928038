"""Safe defaults for serving: the secret key rule, HTTPS settings and a Content-Security-Policy.

Kept out of settings.py so the rules are plain functions with tests (tests/setup/test_security.py).
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

DEV_SECRET_KEY = "dev-only-insecure-key-never-used-with-debug-off"
TEST_SECRET_KEY = "test-suite-only-key"


def resolve_secret_key(
    given: str, *, debug: bool, demo: bool, under_test: bool, var_dir: Path
) -> str:
    """The Django secret key, or ImproperlyConfigured when a real deployment has none.

    `VIGIA_SECRET_KEY` wins. With debug on a fixed development key is fine; the test suite
    (pytest sets PYTEST_VERSION) gets a fixed test key; the demo (`make run` sets VIGIA_DEMO)
    generates one once and keeps it in `var/secret_key` (0600), which every later process on that
    var directory uses (CLI commands, the worker), so sessions survive restarts. Anything else
    with debug off refuses to start: a guessable key lets anyone forge sessions.
    """
    if given:
        return given
    if debug:
        return DEV_SECRET_KEY
    if under_test:
        return TEST_SECRET_KEY
    path = var_dir / "secret_key"
    if demo or path.exists():
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(50))
        return path.read_text().strip()
    raise ImproperlyConfigured(
        "VIGIA_SECRET_KEY is required when VIGIA_DEBUG is false: set it to a long random string "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or run the demo with "
        "`make run`, which keeps a generated key under var/."
    )


def https_settings(https: bool, *, hsts_seconds: int, ssl_redirect: bool) -> dict[str, Any]:
    """Django settings for serving over HTTPS, typically TLS ended at a reverse proxy that
    sets `X-Forwarded-Proto: https` (the proxy must overwrite that header from clients)."""
    if not https:
        return {"SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False, "SECURE_HSTS_SECONDS": 0}
    return {
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": ssl_redirect,
        "SECURE_HSTS_SECONDS": hsts_seconds,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
    }


def content_security_policy() -> str:
    """The policy every page passes: scripts and styles from our own origin only, no inline
    script, no plugins, no framing. Inline `style` attributes stay allowed: label colours and
    progress bars are per-row values, and a style attribute cannot run code."""
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: blob:",
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class ContentSecurityPolicyMiddleware:
    """Adds `Content-Security-Policy` (settings.VIGIA_CSP) to every response that has none,
    except under settings.VIGIA_CSP_EXEMPT_PREFIXES. Django 5.2 has no built-in CSP."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.VIGIA_CSP
        self.exempt = tuple(getattr(settings, "VIGIA_CSP_EXEMPT_PREFIXES", ()))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and not request.path.startswith(self.exempt):
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
