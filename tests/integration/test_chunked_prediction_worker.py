"""Chunked prediction on real Celery workers: two workers share a job; a worker killed mid-job
is replaced and the job resumes without redoing finished chunks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from models_zoo.models import ChunkState, Prediction, PredictionChunk, PredictionJob
from tests.conftest import ROOT, _database_url_for_current_test_db, make_project
from tests.models_zoo.chunk_fixtures import add_texts, tiny_artifact
from tests.models_zoo.prediction_fixtures import make_version

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def start_worker(tmp_path: Path, name: str) -> subprocess.Popen:
    from django.conf import settings

    from config.celery import app

    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url_for_current_test_db(),
        CELERY_BROKER_URL=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
        VIGIA_VAR_DIR=str(tmp_path / "var"),
        VIGIA_STORAGE_URL=str(settings.VIGIA_STORAGE_URL),  # shared, as a bucket is
        PYTHONUNBUFFERED="1",
    )
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    hostname = f"{name}-{os.getpid()}@%h"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            "--pool=prefork",
            "-Q",
            "celery,gpu",
            "--without-gossip",
            "--without-mingle",
            f"--hostname={hostname}",
            "--prefetch-multiplier=1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc.log_path = tmp_path / f"{name}.log"  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"worker exited: {proc.log_path.read_text()[-3000:]}")
        if any(f"{name}-{os.getpid()}@" in n for r in app.control.ping(timeout=1.0) for n in r):
            return proc
    kill(proc)
    pytest.fail("worker did not answer a ping within 60 s")


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool children (its own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)


def wait_for(predicate, timeout: float, what: str, workers) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    logs = "\n".join(w.log_path.read_text()[-1500:] for w in workers)
    pytest.fail(f"timed out after {timeout}s waiting for {what}: {logs}")


@pytest.fixture
def workers(tmp_path):
    from config.celery import app

    app.control.purge()
    started: list[subprocess.Popen] = []
    yield lambda name: started.append(start_worker(tmp_path, name)) or started[-1]
    for proc in started:
        kill(proc)


def test_two_workers_share_a_job_and_a_killed_worker_resumes_without_redoing(
    owner, owner_api, workers
):
    project = make_project(owner, labels=("HS", "TR", "AG"))
    version = make_version(project, tiny_artifact(), current=True)
    add_texts(project, 1200)
    first = workers("first")
    second = workers("second")
    res = owner_api.post(
        f"/api/v1/projects/{project.pk}/prediction-jobs", {"chunk_size": 10}, format="json"
    )
    assert res.status_code == 202, res.json()
    job = PredictionJob.objects.get(pk=res.json()["id"])
    assert job.total_chunks == 120

    done = lambda: PredictionChunk.objects.filter(job=job, state=ChunkState.DONE).count()  # noqa: E731

    def takers() -> int:
        started = PredictionChunk.objects.filter(job=job).exclude(worker="")
        return started.values("worker").distinct().count()

    # Both workers have taken chunks and a few are finished (a loaded host starts one late).
    wait_for(
        lambda: done() >= 6 and takers() == 2, 240, "six chunks, both workers", [first, second]
    )
    kill(first)
    kill(second)
    finished = {
        c.pk: (c.finished_at, c.worker)
        for c in PredictionChunk.objects.filter(job=job, state=ChunkState.DONE)
    }
    assert 6 <= len(finished) < 120, "the job must be cut off mid-way"
    predicted_ids = set(
        Prediction.objects.filter(model_version=version).values_list("id", flat=True)
    )
    # Nothing half-written: exactly the done chunks' examples have predictions.
    assert len(predicted_ids) == sum(
        PredictionChunk.objects.filter(pk__in=finished).values_list("examples", flat=True)
    )
    # Both workers took chunks.
    assert takers() == 2

    from config.celery import app

    app.control.purge()  # what the dead workers left queued
    third = workers("third")
    resumed = owner_api.post(f"/api/v1/prediction-jobs/{job.pk}/resume")
    assert resumed.status_code == 202, resumed.json()
    wait_for(
        lambda: PredictionJob.objects.get(pk=job.pk).state == "succeeded", 300, "the job", [third]
    )
    job.refresh_from_db()
    assert (job.done_chunks, job.predicted) == (120, 1200)
    assert Prediction.objects.filter(model_version=version).count() == 1200
    # Finished chunks were not redone: same finish time, same worker, one attempt.
    for chunk in PredictionChunk.objects.filter(pk__in=finished):
        assert (chunk.finished_at, chunk.worker, chunk.attempts) == (*finished[chunk.pk], 1)
    assert (
        set(Prediction.objects.filter(id__in=predicted_ids).values_list("id", flat=True))
        == predicted_ids
    )
    assert max(PredictionChunk.objects.filter(job=job).values_list("attempts", flat=True)) <= 2
