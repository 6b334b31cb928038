"""Stop `make test` early, with a useful message, when PostgreSQL or Redis does not answer."""
from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlparse

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/vigia"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"

HINTS = {
    "PostgreSQL": "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
    " (or point DATABASE_URL at a running server)",
    "Redis": "start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379"
    " (or point CELERY_BROKER_URL at a running server)",
}


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def main() -> int:
    checks = [
        ("PostgreSQL", "DATABASE_URL", os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL), 5432),
        ("Redis", "CELERY_BROKER_URL", os.environ.get("CELERY_BROKER_URL", DEFAULT_BROKER_URL), 6379),
    ]
    failed = False
    for name, var, url, default_port in checks:
        parsed = urlparse(url)
        host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
        if not answers(host, port):
            print(f"make test: {name} does not answer at {host}:{port} ({var}={url}).", file=sys.stderr)
            print(f"  {HINTS[name]}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
