"""The two README commands rest on these: env-driven settings, the service check, the demo."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from annotator.models import Annotation, Example, Membership, Project

ROOT = Path(__file__).resolve().parents[2]


def _settings_in_subprocess(env: dict[str, str]) -> dict[str, str]:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
        "'name': str(settings.DATABASES['default']['NAME']), "
        "'pgdata': settings.DATABASES['default'].get('PGDATA'), 'broker': settings.CELERY_BROKER_URL}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_it_uses_the_embedded_postgresql_and_the_filesystem_broker_under_var_when_nothing_is_configured(tmp_path):
    found = _settings_in_subprocess({"VIGIA_VAR_DIR": str(tmp_path)})
    assert found["engine"] == "config.embedded_db"
    assert found["name"] == "vigia"
    assert found["pgdata"] == str(tmp_path / "pgdata")
    assert found["broker"] == "filesystem://"
    assert (tmp_path / "broker" / "out").is_dir()
    # Reading the settings starts nothing: the server starts on the first connection.
    assert not (tmp_path / "pgdata").exists()


def test_it_reads_database_and_broker_from_the_environment(tmp_path):
    found = _settings_in_subprocess(
        {
            "VIGIA_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/somewhere",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/9",
        }
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["name"] == "somewhere"
    assert found["broker"] == "redis://127.0.0.1:6379/9"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_service_check_names_the_service_that_does_not_answer():
    port = _closed_port()
    env = dict(os.environ)
    env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{port}/x"
    env["CELERY_BROKER_URL"] = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    result = subprocess.run(
        [sys.executable, "scripts/check_services.py"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "PostgreSQL does not answer" in result.stderr
    assert "pg_ctlcluster" in result.stderr
    assert "Redis" not in result.stderr


def test_the_service_check_passes_when_both_answer():
    result = subprocess.run(
        [sys.executable, "scripts/check_services.py"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_bootstrap_demo_creates_the_admin_and_a_project_of_real_tweets_once(capsys):
    call_command("bootstrap_demo")
    out = capsys.readouterr().out
    assert "admin / " in out
    project = Project.objects.get()
    assert project.task_type == "binary"
    assert list(project.labels.values_list("name", flat=True)) == ["on-topic"]
    assert Membership.objects.filter(project=project, user__username="admin", role="admin").exists()
    examples = Example.objects.filter(project=project)
    assert 250 <= examples.count() <= 300  # a few retweets of the same text dedupe
    assert examples.filter(meta__event="2013_Boston_Bombings").exists()
    positives = Annotation.objects.filter(example__project=project, source="import", labels=["on-topic"])
    negatives = Annotation.objects.filter(example__project=project, source="import", labels=[])
    assert positives.count() > 100 and negatives.count() > 100

    call_command("bootstrap_demo")
    assert Project.objects.count() == 1
    assert Example.objects.count() == examples.count()
