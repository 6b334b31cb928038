"""The configuration `make run` uses, started for a test: `manage.py serve` with DATABASE_URL and
CELERY_BROKER_URL unset, so the embedded PostgreSQL server and the `filesystem://` broker run
under the test's own VIGIA_VAR_DIR, with gunicorn and a real Celery worker.

    stack = DemoStack(tmp_path / "var")
    stack.manage("migrate")          # any management command, in the same configuration
    stack.start(demo=True)           # serve --demo: migrate, the demo, web + worker
    ... stack.url ...
    stack.stop()                     # Ctrl-C: SIGINT, as a terminal sends it
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# What the test process was given for its own database and broker: never for the stack.
_OWN = {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "VIGIA_DEBUG"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DemoStack:
    """One `make run` configuration on `var_dir` (see the module docstring)."""

    def __init__(self, var_dir: Path, **env: str) -> None:
        self.var_dir = Path(var_dir)
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if k not in _OWN}
        self.env.update(VIGIA_VAR_DIR=str(self.var_dir), VIGIA_DEMO="true", PYTHONUNBUFFERED="1",
                        **env)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_path = self.var_dir / "serve.log"
        self._log: Any = None

    @property
    def pgdata(self) -> Path:
        return self.var_dir / "pgdata"

    def manage(self, *args: str, timeout: float = 300) -> str:
        """Run `manage.py ARGS` in this configuration; its stdout (fails the test on an error)."""
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def shell(self, code: str) -> Any:
        """Run Python `code` in a Django shell of this configuration; it must print one JSON
        value on its last line, which is returned."""
        out = self.manage("shell", "-c", code)
        return json.loads(out.strip().splitlines()[-1])

    def start(self, *, demo: bool = False, web_workers: int = 1, timeout: float = 120) -> None:
        """`manage.py serve` (with --demo: what `make run` runs) until its URL answers."""
        self._log = open(self.log_path, "a")  # noqa: SIM115 - closed in stop()
        args = [sys.executable, "manage.py", "serve", "--port", str(self.port),
                "--web-workers", str(web_workers), "--web-threads", "4",
                "--log-dir", str(self.var_dir / "log")]
        if demo:
            args.append("--demo")
        self.process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(self.url + "/login/", timeout=2)
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    raise AssertionError(f"serve did not answer:\n{self.log()[-4000:]}") from None
                time.sleep(0.3)

    def log(self) -> str:
        text = self.log_path.read_text() if self.log_path.exists() else ""
        for name in ("web.log", "worker.log"):
            path = self.var_dir / "log" / name
            if path.exists():
                text += f"\n--- {name}\n" + path.read_text()[-6000:]
        return text

    def stop(self, timeout: float = 60) -> int:
        """Ctrl-C: SIGINT to serve, then wait for it (and its children) to exit."""
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"serve did not stop on SIGINT:\n{self.log()[-3000:]}") from None
        finally:
            if self._log is not None:
                self._log.close()
        self.process = None
        return code

    def kill(self) -> None:
        """Last resort: SIGKILL serve and its children's groups, and stop the server."""
        import psutil

        if self.process is not None:
            try:
                kids = psutil.Process(self.process.pid).children(recursive=True)
            except psutil.Error:
                kids = []
            for proc in [psutil.Process(self.process.pid), *kids] if self.process.poll() is None else kids:
                try:
                    proc.kill()
                except psutil.Error:
                    pass
            self.process = None
        from config.embedded_db import stop

        stop(self.pgdata)

    def token(self, username: str, password: str) -> str:
        request = urllib.request.Request(
            self.url + "/api/v1/auth/token", method="POST",
            data=json.dumps({"username": username, "password": password}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["token"]

    def api(self, path: str, token: str) -> tuple[int, Any]:
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"Token {token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()[:2000]
