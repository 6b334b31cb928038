"""`manage.py serve` (gunicorn) end to end: security headers, static files with debug off,
chunked bodies, and a database that drops its connections between requests."""
from __future__ import annotations

import http.client
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

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from tests.conftest import _database_url_for_current_test_db, make_user

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(transactional_db, tmp_path):
    """`manage.py serve --no-worker` with one gunicorn worker and one thread, so every request
    reuses the same persistent database connection."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "VIGIA_DEBUG"}
    env.update(DATABASE_URL=_database_url_for_current_test_db(), VIGIA_VAR_DIR=str(tmp_path / "var"),
               VIGIA_DB_CONN_MAX_AGE="600", PYTHONUNBUFFERED="1")
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-worker", "--port", str(port),
         "--web-workers", "1", "--web-threads", "1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/login/", timeout=2)
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("serve did not answer: " + (tmp_path / "serve.log").read_text()[-3000:])
            time.sleep(0.3)
    yield base, port
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def get(url: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_gunicorn_serves_pages_with_security_headers_and_static_files(served):
    base, _ = served
    status, headers, body = get(base + "/login/")
    assert status == 200 and "gunicorn" in headers.get("Server", "")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    status, headers, body = get(base + "/static/annotator/vigia.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css") and b".topnav" in body
    status, _, body = get(base + "/no-such-page/")
    assert status == 404 and b"Not found" in body and b"Traceback" not in body


def test_a_chunked_request_body_is_read_whole_and_the_connection_stays_in_sync(served, transactional_db):
    _, port = served
    make_user("chunky")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    payload = json.dumps({"username": "chunky", "password": "pw-chunky"}).encode()
    conn.request("POST", "/api/v1/auth/token", body=iter([payload[:10], payload[10:]]),
                 headers={"Content-Type": "application/json"}, encode_chunked=True)
    first = conn.getresponse()
    assert first.status == 200 and "token" in json.loads(first.read())
    conn.request("GET", "/api/v1/me", headers={"Authorization": "Token nope"})
    second = conn.getresponse()
    assert second.status == 401
    second.read()
    conn.close()


def test_the_next_request_after_the_database_drops_connections_is_not_a_500(served, transactional_db):
    base, _ = served
    token = Token.objects.create(user=make_user("steady")).key
    assert get(base + "/api/v1/me", token)[0] == 200  # the worker now holds a connection
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1  # the server's connection was among them
    for _ in range(3):
        status, _, body = get(base + "/api/v1/me", token)
        assert status == 200, body[:500]
        assert json.loads(body)["username"] == "steady"


@pytest.fixture
def served_with_worker(transactional_db, tmp_path):
    """`manage.py serve` with its Celery worker, on the test database and the test broker."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "VIGIA_DEBUG"}
    env.update(DATABASE_URL=_database_url_for_current_test_db(), VIGIA_VAR_DIR=str(tmp_path / "var"),
               PYTHONUNBUFFERED="1")
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--web-workers", "1",
         "--web-threads", "2", "--log-dir", str(tmp_path / "logs")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(base + "/login/", timeout=2)
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("serve did not answer: " + (tmp_path / "serve.log").read_text()[-3000:])
            time.sleep(0.3)
    proc.log_path = tmp_path / "serve.log"
    yield base, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            import psutil

            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
            proc.kill()
    log.close()


def _children(proc, word: str) -> list:
    """Live children of `proc` whose command line mentions `word` (a killed child is a zombie
    until serve reaps it: not counted)."""
    import psutil

    found = []
    for child in psutil.Process(proc.pid).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and any(word in part for part in child.cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found


def _wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    pytest.fail(f"gave up waiting for {what}")


def test_a_killed_worker_is_restarted_while_the_web_server_keeps_serving(served_with_worker):
    base, proc = served_with_worker
    worker = _wait_for(lambda: _children(proc, "celery"), 30, "the worker")[0]
    web = _children(proc, "gunicorn")[0]
    # SIGKILL its whole process group (pool included), as the OOM killer might.
    os.killpg(worker.pid, signal.SIGKILL)
    assert get(base + "/login/")[0] == 200  # the web server does not care
    again = _wait_for(lambda: [w for w in _children(proc, "celery") if w.pid != worker.pid], 30,
                      "a new worker")[0]
    assert again.pid != worker.pid and again.is_running()
    assert proc.poll() is None and web.is_running() and get(base + "/login/")[0] == 200
    assert "The worker exited with code -9" in proc.log_path.read_text()


def test_ctrl_c_stops_the_web_server_and_the_worker(served_with_worker):
    _, proc = served_with_worker
    children = _wait_for(lambda: len(_children(proc, "celery")) == 1 and _children(proc, ""), 30,
                         "both children")
    assert {"celery", "gunicorn"} <= {w for c in children for w in ("celery", "gunicorn")
                                       if any(w in part for part in c.cmdline())}
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=40) == 0
    for child in children:
        try:
            child.wait(timeout=10)
        except Exception:  # psutil.TimeoutExpired: still running
            pytest.fail(f"{child.cmdline()[:4]} still runs after Ctrl-C")
    assert "Stopped the web server and worker." in proc.log_path.read_text()
