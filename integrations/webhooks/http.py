"""One HTTP POST to a checked target (urlguard.Target), without following redirects.

http.client, not urllib or requests: it never follows a redirect, and it lets the connection
go to the address urlguard checked while the Host header and TLS name stay the URL's host.
"""
from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from integrations.webhooks.urlguard import Target

MAX_RESPONSE_BYTES = 2048  # kept for the log; the rest is not read


@dataclass(frozen=True)
class HttpOutcome:
    code: int | None  # None: no answer (timeout, refused connection, TLS failure)
    duration_ms: float
    error: str = ""
    body: str = ""

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> HttpOutcome:
    """POST `body` to the target's first address; any failure is an outcome, never raised."""
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    conn = cls(target.host, target.port, target.addresses[0], timeout)
    started = time.perf_counter()
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace")
        code = response.status
        error = ""
        if 300 <= code < 400:
            error = f"redirect to {response.getheader('Location', '?')} not followed"
        elif not 200 <= code < 300:
            error = f"HTTP {code}"
        return HttpOutcome(code, (time.perf_counter() - started) * 1000, error, text)
    except TimeoutError:
        return HttpOutcome(None, (time.perf_counter() - started) * 1000, f"timed out after {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return HttpOutcome(None, (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()
