"""Shared fixtures: the three personas (owner, annotator, outsider, plus a viewer), API clients
with token auth, and a real Celery worker process for integration tests."""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotator.models import Label, Membership, Project, Role

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
# Small, licensed slices of the shared sets with the same layout (tests/fixtures/README.md):
# what the default suite reads, so it passes on a machine that has only the repository.
SAMPLE_DATASETS = ROOT / "tests" / "fixtures" / "datasets"
# Encoder ONNX exports: one cache per test session (each test has its own store, below;
# re-exporting the same checkpoint in every test would only cost time).
if "VIGIA_ENCODER_CACHE_DIR" not in os.environ:
    os.environ["VIGIA_ENCODER_CACHE_DIR"] = tempfile.mkdtemp(prefix="vigia-test-encoders-")
    atexit.register(shutil.rmtree, os.environ["VIGIA_ENCODER_CACHE_DIR"], True)
# Tests build tiny models in temporary directories and name them as encoders: the temporary
# directory is the suite's model root (models_zoo.model_roots). Tests of the roots themselves
# set VIGIA_MODEL_DIRS to their own directories with monkeypatch.
os.environ.setdefault("VIGIA_MODEL_DIRS", tempfile.gettempdir())
# Uploaded images (example images) go to a per-session directory, never the repository's var/.
# Django's settings are loaded before this module (pytest-django), so set both.
if "VIGIA_MEDIA_ROOT" not in os.environ:
    os.environ["VIGIA_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="vigia-test-media-")
    atexit.register(shutil.rmtree, os.environ["VIGIA_MEDIA_ROOT"], True)
settings.MEDIA_ROOT = Path(os.environ["VIGIA_MEDIA_ROOT"])


def full_datasets_path() -> Path:
    """Where the full shared datasets are: $VIGIA_DATASETS_DIR, else ../shared/datasets."""
    configured = os.environ.get("VIGIA_DATASETS_DIR")
    return Path(configured).expanduser() if configured else SHARED / "datasets"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "datasets: reads the full shared datasets (`datasets_dir`); also slow"
    )
    # VIGIA_DATASETS_DIR pointing at the full sets: run their tests with the default suite too.
    # Pointing nowhere, it changes nothing by default; `-m slow` then fails them clearly.
    if (
        os.environ.get("VIGIA_DATASETS_DIR")
        and full_datasets_path().is_dir()
        and config.option.markexpr == "not slow"
    ):
        config.option.markexpr = "not slow or datasets"


def pytest_report_header(config: pytest.Config) -> str:
    path = full_datasets_path()
    state = "found" if path.is_dir() else "absent"
    return f"full shared datasets: {path} ({state}); default tests read {SAMPLE_DATASETS}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that asks for `datasets_dir` is marked `datasets` and `slow` before `-m` selects,
    so the default run never needs the full sets."""
    for item in items:
        if "datasets_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.datasets)
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def datasets_dir() -> Path:
    """The full shared datasets; a clear failure when they were asked for and are absent."""
    path = full_datasets_path()
    if not path.is_dir():
        pytest.fail(
            f"the full shared datasets are not at {path}: set VIGIA_DATASETS_DIR to the folder "
            "holding crisislex/, hateval2019/, wnut17/, idrisi_r/ and trump_tweets/, or leave out "
            "`-m slow` (the default suite reads the samples in tests/fixtures/datasets)"
        )
    return path


@pytest.fixture(autouse=True)
def storage_per_test(settings, tmp_path) -> Path:
    """Every test gets its own store (VIGIA_STORAGE_URL, a local path) and host cache; the
    Celery workers the fixtures below start share the store, as hosts share a bucket."""
    settings.VIGIA_STORAGE_URL = str(tmp_path / "storage")
    settings.VIGIA_CACHE_DIR = tmp_path / "cache"
    return tmp_path / "storage"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory) -> Iterator[str]:
    """moto's standalone S3 server (`python -m moto.server`, what s3fs's own suite runs) as a
    separate process on a loopback port, reached over HTTP like any S3 API; its endpoint URL.
    One per session; each test makes its own bucket (`s3_store`)."""
    import urllib.error
    import urllib.request

    port = free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=2).close()
            break
        except urllib.error.HTTPError:
            break  # it answers
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto's S3 server did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
    yield endpoint
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def s3_store(moto_server, monkeypatch, settings, tmp_path) -> str:
    """VIGIA_STORAGE_URL on a fresh bucket of the moto server, with the standard AWS variables
    set in this process (and so in the processes it starts); returns the storage URL."""
    import uuid

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = f"vigia-{uuid.uuid4().hex[:12]}"
    import s3fs

    s3fs.S3FileSystem(endpoint_url=moto_server, skip_instance_cache=True).mkdir(bucket)
    settings.VIGIA_STORAGE_URL = f"s3://{bucket}/store"
    settings.VIGIA_CACHE_DIR = tmp_path / "host-cache"
    return settings.VIGIA_STORAGE_URL


@pytest.fixture
def sample_datasets() -> Path:
    """The small samples in tests/fixtures/datasets (same relative paths as the full sets)."""
    return SAMPLE_DATASETS


def make_user(username: str, **extra: object):
    User = get_user_model()
    return User.objects.create_user(username=username, password="pw-" + username, **extra)


@pytest.fixture
def owner(db):
    return make_user("owner")


@pytest.fixture
def annotator_user(db):
    return make_user("annotator")


@pytest.fixture
def viewer(db):
    return make_user("viewer")


@pytest.fixture
def outsider(db):
    return make_user("outsider")


def make_project(owner, task_type: str = "multilabel", labels=("HS", "TR", "AG"), **extra) -> Project:
    project = Project.objects.create(name=f"{task_type} project", task_type=task_type, created_by=owner, **extra)
    palette = ["#ef4444", "#3b82f6", "#22c55e", "#eab308", "#a855f7", "#ec4899"]
    for i, name in enumerate(labels):
        Label.objects.create(
            project=project, name=name, shortcut="qwertyuiop"[i % 10], color=palette[i % 6], order=i
        )
    Membership.objects.create(user=owner, project=project, role=Role.ADMIN)
    return project


@pytest.fixture
def project(owner, annotator_user, viewer) -> Project:
    """A multilabel HS/TR/AG project: owner is admin, annotator annotates, viewer reads."""
    p = make_project(owner)
    Membership.objects.create(user=annotator_user, project=p, role=Role.ANNOTATOR)
    Membership.objects.create(user=viewer, project=p, role=Role.VIEWER)
    return p


def api_client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def owner_api(owner) -> APIClient:
    return api_client_for(owner)


@pytest.fixture
def annotator_api(annotator_user) -> APIClient:
    return api_client_for(annotator_user)


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    return api_client_for(viewer)


@pytest.fixture
def outsider_api(outsider) -> APIClient:
    return api_client_for(outsider)


def _database_url_for_current_test_db() -> str:
    from django.db import connection

    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{s['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path) -> Iterator[subprocess.Popen]:
    """A real `celery -A config worker` process on the test database and the real broker.

    The test must use committed data (this fixture pulls in `transactional_db`). Queues are
    purged first so leftovers of earlier tests are not consumed. The worker leads its own
    process group, so a test can SIGKILL it with its pool children (`kill_worker`).
    """
    from django.conf import settings

    from config.celery import app

    broker = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url_for_current_test_db(),
        CELERY_BROKER_URL=broker,
        VIGIA_VAR_DIR=str(tmp_path / "var"),
        VIGIA_STORAGE_URL=str(settings.VIGIA_STORAGE_URL),
        PYTHONUNBUFFERED="1",
    )
    app.control.purge()
    log = open(tmp_path / "worker.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO",
         "--concurrency=1", "--pool=prefork", "-Q", "celery,gpu", "--without-gossip",
         "--without-mingle", f"--hostname=test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"celery worker exited: {(tmp_path / 'worker.log').read_text()[-3000:]}")
        replies = app.control.ping(timeout=1.0)
        if any(f"test-{os.getpid()}@" in name for reply in replies for name in reply):
            break
    else:
        proc.kill()
        pytest.fail("celery worker did not answer a ping within 60 s")
    proc.log_path = tmp_path / "worker.log"  # type: ignore[attr-defined]
    yield proc
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    log.close()


def kill_worker(proc: subprocess.Popen) -> None:
    """SIGKILL a worker from `celery_worker_process` and its pool children: no chance to clean
    up, as when a machine dies or the OOM killer strikes."""
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


@pytest.fixture
def broker_down() -> Iterator[None]:
    """Messages published by this process go to a broker that refuses connections."""
    from config.celery import app

    def reset() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    old = app.conf.broker_write_url
    app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    reset()
    try:
        yield
    finally:
        app.conf.broker_write_url = old
        reset()


@pytest.fixture
def demo_stack() -> Iterator[object]:
    """The `make run` configuration (tests/stack.py): the embedded PostgreSQL server and the
    `filesystem://` broker under their own VIGIA_VAR_DIR, DATABASE_URL and CELERY_BROKER_URL
    unset for its processes; `start()` runs `manage.py serve` (gunicorn and a real Celery
    worker). Left stopped, with its embedded server, when the test ends.

    The directory is a fresh one under the system temp dir, not under pytest's tmp_path: run as
    root, the server runs as its own user, which must traverse every directory above its data,
    and pytest keeps its base temp dir private (0700) and resets it when a session starts."""
    from tests.stack import DemoStack

    var_dir = Path(tempfile.mkdtemp(prefix="vigia-stack-"))
    stack = DemoStack(var_dir / "var")
    yield stack
    if stack.process is not None:
        try:
            stack.stop()
        except AssertionError:
            pass
    stack.kill()
    shutil.rmtree(var_dir, ignore_errors=True)
