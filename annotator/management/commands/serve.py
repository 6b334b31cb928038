"""Start the web server and a Celery worker together; Ctrl-C stops both.

The web server is gunicorn with gthread workers: Vigia is a synchronous Django/WSGI app whose
heavy work (model forwards) is CPU-bound and releases the GIL inside torch, so a few processes
with a few threads each serve concurrent clients without an async rewrite; gunicorn restarts a
worker that dies or hangs (`--timeout`). `--server runserver` keeps Django's development server
for debugging only (it is not safe or fast under concurrent load).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run the web server (on $PORT, default 8000) and a Celery worker as one unit. "
        "If either stops, the other is stopped too. Ctrl-C stops both."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("VIGIA_HOST", "127.0.0.1"))
        parser.add_argument("--concurrency", type=int, default=1, help="Celery worker processes")
        parser.add_argument(
            "--web-workers", type=int, default=int(os.environ.get("VIGIA_WEB_WORKERS", "2")),
            help="gunicorn worker processes (each loads the current model once)",
        )
        parser.add_argument(
            "--web-threads", type=int, default=int(os.environ.get("VIGIA_WEB_THREADS", "4")),
            help="threads per gunicorn worker",
        )
        parser.add_argument(
            "--server", choices=["gunicorn", "runserver"], default="gunicorn",
            help="gunicorn (default) or Django's development server (debugging only)",
        )
        parser.add_argument("--no-worker", action="store_true", help="start the web server only")

    def handle(self, *args: Any, **options: Any) -> None:
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        queues = "celery"
        if settings.VIGIA_GPU_QUEUE:
            queues += f",{settings.VIGIA_GPU_QUEUE}"
        worker_cmd = [
            python, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO",
            f"--concurrency={options['concurrency']}", "-Q", queues,
        ]
        web_cmd = web_server_command(python, manage, options)
        children = {}
        if not options["no_worker"]:
            children["worker"] = subprocess.Popen(worker_cmd, cwd=settings.BASE_DIR)
        web_env = dict(os.environ)
        if options["server"] == "runserver":
            # A thread per request: persistent connections would pile up, one per request.
            web_env["VIGIA_DB_CONN_MAX_AGE"] = "0"
        children["web server"] = subprocess.Popen(web_cmd, cwd=settings.BASE_DIR, env=web_env)
        url = f"http://{'localhost' if options['host'] in ('127.0.0.1', '0.0.0.0') else options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"Vigia is starting at {url} (Ctrl-C stops web and worker)"))
        self.stdout.write(f"  web server: {options['server']}" + (
            f" ({options['web_workers']} workers x {options['web_threads']} threads)"
            if options["server"] == "gunicorn" else " (development server: debugging only)"))
        self.stdout.write(f"  database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
                          f"  broker: {settings.CELERY_BROKER_URL.split('://', 1)[0]}")

        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    self.stderr.write(f"{name} exited with code {child.returncode}; stopping")
                    exit_code = child.returncode or 1
                    stopping = True
            time.sleep(0.3)
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        self.stdout.write("Stopped web server and worker.")
        if exit_code:
            sys.exit(exit_code)


def web_server_command(python: str, manage: str, options: dict[str, Any]) -> list[str]:
    """The command line of the web server `serve` starts."""
    bind = f"{options['host']}:{options['port']}"
    if options["server"] == "runserver":
        return [python, manage, "runserver", bind, "--noreload"]
    return [
        python, "-m", "gunicorn", "config.wsgi:application",
        "--bind", bind,
        "--worker-class", "gthread",
        "--workers", str(max(1, options["web_workers"])),
        "--threads", str(max(1, options["web_threads"])),
        # A request slower than this (a huge import done inline) gets its worker restarted.
        "--timeout", os.environ.get("VIGIA_WEB_TIMEOUT", "300"),
        "--graceful-timeout", "20",
        "--keep-alive", "5",
        # Behind a proxy on the same host; X-Forwarded-* from elsewhere is ignored.
        "--forwarded-allow-ips", os.environ.get("VIGIA_FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
        # The control socket lives at one path per user: two instances on a host would clash.
        "--no-control-socket",
        "--access-logfile", "-",
        "--error-logfile", "-",
    ]
