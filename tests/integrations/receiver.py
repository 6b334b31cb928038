"""A real HTTP receiver on 127.0.0.1 for webhook tests: a ThreadingHTTPServer in a thread that
records every request and answers as told (status, delay, redirect), verifying signatures with
the same recipe a downstream system would use."""
from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool | None = None


@dataclass
class Receiver:
    secret: str = ""
    status: int = 200
    delay: float = 0.0
    location: str = ""  # answer 302 to here when set
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        """What a receiver does: HMAC-SHA256(secret, timestamp + "." + body), constant-time."""
        timestamp = headers.get("X-Vigia-Timestamp", "")
        expected = "sha256=" + hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        fresh = abs(time.time() - int(timestamp or 0)) < 300
        return fresh and hmac.compare_digest(expected, headers.get("X-Vigia-Signature", ""))


def start_receiver(**options) -> Receiver:
    receiver = Receiver(**options)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items()}
            ok = receiver.verify(headers, body) if receiver.secret else None
            receiver.requests.append(Received(self.path, headers, body, ok))
            if receiver.delay:
                time.sleep(receiver.delay)
            if receiver.location:
                self.send_response(302)
                self.send_header("Location", receiver.location)
            else:
                self.send_response(receiver.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    return receiver


def stop_receiver(receiver: Receiver) -> None:
    if receiver.server is not None:
        receiver.server.shutdown()
        receiver.server.server_close()
