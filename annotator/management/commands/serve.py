"""Start the web server and a Celery worker together; Ctrl-C stops both."""
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
        web_cmd = [
            python, manage, "runserver", f"{options['host']}:{options['port']}",
            "--noreload", "--insecure",
        ]
        children = {
            "worker": subprocess.Popen(worker_cmd, cwd=settings.BASE_DIR),
            "web server": subprocess.Popen(web_cmd, cwd=settings.BASE_DIR),
        }
        url = f"http://{'localhost' if options['host'] in ('127.0.0.1', '0.0.0.0') else options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"Vigia is starting at {url} (Ctrl-C stops web and worker)"))
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
