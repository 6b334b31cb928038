"""Per-key request rate: DRF's SimpleRateThrottle on the shared "throttle" cache (Redis in
production; see settings.CACHES). People (token, session) are not throttled here."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from integrations.models.api_keys import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """VIGIA_API_KEY_RATE requests per key (a 429 with Retry-After above it)."""

    scope = "api_key"

    def __init__(self) -> None:
        self.cache = caches["throttle"]
        super().__init__()

    def get_rate(self) -> str | None:
        # Read per request rather than from DRF's class-level settings, so an operator's (or
        # a test's) setting applies without re-importing the class.
        return settings.VIGIA_API_KEY_RATE or None

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        key = request.auth
        if not isinstance(key, ApiKey):
            return None
        # The hash is unique and random: ids restart with a new database, hashes do not.
        return f"throttle_api_key_{key.hashed_key[:24]}"
