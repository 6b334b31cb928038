"""Webhook signatures, as GitHub and Stripe sign: HMAC-SHA256 over "<timestamp>.<body>".

Pure functions; a receiver verifies with `verify_signature` (or the same three lines in its
own language): recompute, compare in constant time, and refuse old timestamps (replays).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "X-Vigia-Signature"
TIMESTAMP_HEADER = "X-Vigia-Timestamp"
EVENT_HEADER = "X-Vigia-Event"
DELIVERY_HEADER = "X-Vigia-Delivery"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-Vigia-Signature value: "sha256=" + hex HMAC(secret, timestamp + "." + body)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance_s: float = 300,
    now: float | None = None,
) -> bool:
    """True when `signature` signs `body` at `timestamp` and the timestamp is recent."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except (TypeError, ValueError):
        return False
    if age > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")
