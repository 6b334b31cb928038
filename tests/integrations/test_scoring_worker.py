"""Batch scoring of 10,000 texts on real Celery workers: the first worker is SIGKILLed mid-job,
a new one resumes it, every row is scored exactly once and finished chunks are not redone."""
from __future__ import annotations

import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotator.models import Example
from integrations.models import ScoringChunk, ScoringJob
from tests.integration.test_chunked_prediction_worker import kill, start_worker
from tests.models_zoo.chunk_fixtures import tiny_artifact
from tests.models_zoo.prediction_fixtures import make_version

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROWS = 10_000
CHUNK = 500


def wait_for(predicate, timeout: float, what: str, worker) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}: {worker.log_path.read_text()[-3000:]}")


def test_ten_thousand_texts_survive_a_killed_worker(monkeypatch, settings, tmp_path, owner_api, project):
    from config.celery import app

    scoring_dir = tmp_path / "scoring"
    monkeypatch.setenv("VIGIA_SCORING_DIR", str(scoring_dir))  # the workers' and ours: one place
    settings.VIGIA_SCORING_DIR = scoring_dir
    version = make_version(project, tiny_artifact(), current=True)
    lines = "".join(json.dumps({"id": f"tw{i}", "text": f"tweet {i} about the flood"}) + "\n" for i in range(ROWS))
    app.control.purge()
    first = start_worker(tmp_path, "scorer1")
    res = owner_api.post(
        f"/api/v1/projects/{project.pk}/scoring-jobs",
        {"file": SimpleUploadedFile("day.jsonl", lines.encode()), "chunk_size": str(CHUNK)},
        format="multipart",
    )
    assert res.status_code == 202, res.json()
    job_id = res.json()["id"]
    assert res.json()["chunks"]["total"] == ROWS // CHUNK

    def done() -> int:
        return ScoringChunk.objects.filter(job_id=job_id, state="done").count()

    wait_for(lambda: done() >= 3, 300, "three chunks", first)
    kill(first)
    finished = {c.pk: (c.finished_at, c.worker) for c in ScoringChunk.objects.filter(job_id=job_id, state="done")}
    assert 3 <= len(finished) < ROWS // CHUNK, "the job must be cut off mid-way"
    job = ScoringJob.objects.get(pk=job_id)
    assert job.state == "running" and job.scored == CHUNK * len(finished)
    assert not (scoring_dir / str(job_id) / "results.jsonl").exists()

    app.control.purge()  # what the dead worker left queued
    second = start_worker(tmp_path, "scorer2")
    try:
        resumed = owner_api.post(f"/api/v1/scoring-jobs/{job_id}/resume")
        assert resumed.status_code == 202, resumed.json()
        wait_for(lambda: ScoringJob.objects.get(pk=job_id).state == "succeeded", 600, "the job", second)
    finally:
        kill(second)
    job.refresh_from_db()
    assert (job.done_chunks, job.scored) == (ROWS // CHUNK, ROWS)
    for chunk in ScoringChunk.objects.filter(pk__in=finished):
        assert (chunk.finished_at, chunk.worker, chunk.attempts) == (*finished[chunk.pk], 1)
    assert max(ScoringChunk.objects.filter(job_id=job_id).values_list("attempts", flat=True)) <= 2
    body = b"".join(owner_api.get(f"/api/v1/scoring-jobs/{job_id}/results").streaming_content)
    rows = [json.loads(line) for line in body.decode().splitlines()]
    assert [r["row"] for r in rows] == list(range(ROWS))  # every row once, in order
    assert [r["id"] for r in rows[:3]] == ["tw0", "tw1", "tw2"]
    assert {r["model_version"] for r in rows} == {version.pk}
    assert not Example.objects.filter(project=project).exists()
