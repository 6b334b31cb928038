"""A worker SIGKILLed in the middle of a large import (real worker, real Redis, real PostgreSQL):
the job does not stay `running` forever. Once its heartbeat is VIGIA_IMPORT_STALE_SECONDS old
the status endpoint reads it as failed ("worker lost"), the upload is gone from disk and nothing
of the file was stored (the import was one transaction, rolled back with the dead connection)."""
from __future__ import annotations

import time

import pytest
from django.db import close_old_connections

from annotator.models import Example, ImportJob, ImportStatus
from tests.conftest import kill_worker

pytestmark = pytest.mark.integration

STALE_SECONDS = 3


@pytest.fixture
def worker_env(monkeypatch, settings):
    """The stale limit of the worker the next fixture starts, and of this process."""
    monkeypatch.setenv("VIGIA_IMPORT_STALE_SECONDS", str(STALE_SECONDS))
    settings.VIGIA_IMPORT_STALE_SECONDS = STALE_SECONDS


@pytest.fixture
def worker(worker_env, celery_worker_process):
    return celery_worker_process


def test_a_killed_worker_leaves_the_import_failed_its_upload_removed_and_nothing_stored(
    worker, owner_api, project, owner, tmp_path
):
    from tasks.imports import import_file_task

    upload = tmp_path / "big.csv"
    with open(upload, "w", encoding="utf-8") as out:
        out.write("id,text,HS,TR,AG\n")
        for i in range(400_000):
            out.write(f"{i},tweet number {i} about the floods downtown and the roads,{i % 2},0,1\n")
    job = ImportJob.objects.create(project=project, created_by=owner, path=str(upload), format="csv",
                                   total_bytes=upload.stat().st_size)
    import_file_task.delay(job.pk)

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        close_old_connections()
        job.refresh_from_db()
        assert job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING), job.errors
        if job.status == ImportStatus.RUNNING and job.rows_seen > 0:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the import never got going: {worker.log_path.read_text()[-3000:]}")
    kill_worker(worker)
    killed_at = time.monotonic()
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING and job.heartbeat_at is not None

    data = {}
    while time.monotonic() - killed_at < STALE_SECONDS + 15:
        data = owner_api.get(f"/api/v1/imports/{job.pk}").json()
        if data["status"] != "running":
            break
        time.sleep(0.5)
    assert data["status"] == "failed", data
    assert time.monotonic() - killed_at >= STALE_SECONDS - 1
    assert "worker lost" in data["errors"][0]["message"]
    assert not upload.exists()
    assert not Example.objects.filter(project=project).exists()
