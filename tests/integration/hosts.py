"""Separate "hosts" for the multi-host tests: processes that share only PostgreSQL, Redis and the
storage (VIGIA_STORAGE_URL, an S3 bucket on moto's server), each with its own VIGIA_VAR_DIR (its
own cache, encoder exports, uploads)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, _database_url_for_current_test_db, free_port


def host_env(var_dir: Path) -> dict[str, str]:
    """This process's environment (the AWS variables included) for a host with its own var/."""
    from django.conf import settings

    env = dict(os.environ)
    # The test session shares one encoder export directory; a host must not.
    env.pop("VIGIA_ENCODER_CACHE_DIR", None)
    env.update(
        DATABASE_URL=_database_url_for_current_test_db(),
        CELERY_BROKER_URL=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
        VIGIA_VAR_DIR=str(var_dir),
        VIGIA_STORAGE_URL=str(settings.VIGIA_STORAGE_URL),
        HF_HUB_OFFLINE="1",
        OMP_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def start_worker(var_dir: Path, name: str) -> subprocess.Popen:
    """`celery -A config worker` (default and gpu queues) answering pings as `name`."""
    from config.celery import app

    var_dir.mkdir(parents=True, exist_ok=True)
    log_path = var_dir.parent / f"{name}.log"
    log = open(log_path, "w")  # noqa: SIM115 - lives as long as the worker
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO",
         "--concurrency=1", "--pool=prefork", "-Q", "celery,gpu", "--without-gossip",
         "--without-mingle", f"--hostname={name}-{os.getpid()}@%h", "--prefetch-multiplier=1"],
        cwd=ROOT, env=host_env(var_dir), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc.log_path = log_path  # type: ignore[attr-defined]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"worker {name} exited: {log_path.read_text()[-3000:]}")
        if any(f"{name}-{os.getpid()}@" in n for r in app.control.ping(timeout=1.0) for n in r):
            return proc
    stop(proc)
    pytest.fail(f"worker {name} did not answer a ping within 90 s")


def start_web(var_dir: Path) -> tuple[subprocess.Popen, str]:
    """`manage.py serve --no-worker` (gunicorn, one process) on a free port; (process, base URL)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = var_dir.parent / "web.log"
    log = open(log_path, "w")  # noqa: SIM115 - lives as long as the server
    env = {k: v for k, v in host_env(var_dir).items() if k != "VIGIA_DEBUG"}
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-worker", "--port", str(port),
         "--web-workers", "1", "--web-threads", "2"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    proc.log_path = log_path  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).close()
            return proc, base
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop(proc)
                pytest.fail("the web host did not answer: " + log_path.read_text()[-3000:])
            time.sleep(0.3)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group, SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def call(base: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One REST call over HTTP with token auth; (status, decoded JSON or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, method=method,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode(errors="replace")[-2000:]


def wait_until(predicate, timeout: float, what: str, procs: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(f"a host died waiting for {what}: {proc.log_path.read_text()[-3000:]}")
        time.sleep(0.5)
    logs = "\n".join(p.log_path.read_text()[-2000:] for p in procs)
    pytest.fail(f"timed out after {timeout}s waiting for {what}:\n{logs}")
