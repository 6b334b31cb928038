"""Key material: generate a key, hash it for storage. Pure functions (no Django)."""
from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "vgk_"
_PREFIX_CHARS = 8


def generate_key() -> tuple[str, str, str]:
    """A new key: (key shown once to the admin, display prefix, hash to store).

    43 URL-safe characters of `secrets.token_urlsafe(32)`: 256 random bits."""
    body = secrets.token_urlsafe(32)
    key = f"{KEY_PREFIX}{body}"
    return key, body[:_PREFIX_CHARS], hash_key(key)


def hash_key(key: str) -> str:
    """SHA-256 hex of the key. A random 256-bit key needs no salt or slow hash: there is no
    dictionary to try, and per-request verification stays at microseconds."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
