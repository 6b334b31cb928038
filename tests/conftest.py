"""Shared fixtures: the three personas (owner, annotator, outsider, plus a viewer), API clients
with token auth, and a real Celery worker process for integration tests."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotator.models import Label, Membership, Project, Role

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DATASETS = SHARED / "datasets"


@pytest.fixture
def datasets_dir() -> Path:
    if not DATASETS.is_dir():
        pytest.fail(f"shared datasets not found at {DATASETS}")
    return DATASETS


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
    purged first so leftovers of earlier tests are not consumed.
    """
    from config.celery import app

    broker = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url_for_current_test_db(),
        CELERY_BROKER_URL=broker,
        VIGIA_VAR_DIR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1",
    )
    app.control.purge()
    log = open(tmp_path / "worker.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO",
         "--concurrency=1", "--pool=prefork", "-Q", "celery,gpu", "--without-gossip",
         "--without-mingle", f"--hostname=test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
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
