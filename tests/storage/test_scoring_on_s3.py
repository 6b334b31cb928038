"""Batch scoring on an S3 store (moto's standalone server), the hosts played in this process by
switching the cache directory: the web host stores the upload's chunks in the bucket, a worker
host scores them straight from the bucket (nothing in its cache), the joined results are
downloaded through the web host's cache and checked against the job's sha256; expiry on another
host, cancel and project deletion empty the job's prefix in the bucket."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from config.storage import get_storage
from integrations.models import ScoringJob
from integrations.scoring import service
from tests.models_zoo.chunk_fixtures import tiny_artifact
from tests.models_zoo.prediction_fixtures import make_version

pytestmark = pytest.mark.django_db


def as_host(settings, tmp_path, name: str) -> None:
    """Continue as another host: same store and database, its own cache directory."""
    settings.VIGIA_CACHE_DIR = tmp_path / name


def upload(owner_api, project, texts: list[str], **fields):
    content = "".join(json.dumps({"id": f"t{i}", "text": t}) + "\n" for i, t in enumerate(texts))
    data = {"file": SimpleUploadedFile("day.jsonl", content.encode()), **fields}
    return owner_api.post(f"/api/v1/projects/{project.pk}/scoring-jobs", data, format="multipart")


def keys(job_id: int) -> list[str]:
    return [k.removeprefix(f"scoring/{job_id}/") for k in get_storage().list(f"scoring/{job_id}")]


def test_a_scoring_job_round_trips_through_the_bucket(s3_store, owner_api, project, settings, tmp_path):
    version = make_version(project, tiny_artifact(), current=True)
    texts = [f"flood warning number {i} \u2028 with a line separator" for i in range(25)]
    as_host(settings, tmp_path, "web")
    res = upload(owner_api, project, texts, chunk_size="10")
    assert res.status_code == 202, res.json()
    job_id = res.json()["id"]
    assert keys(job_id) == ["input/0.jsonl", "input/1.jsonl", "input/2.jsonl"]
    assert not (tmp_path / "web" / "storage" / "scoring").exists()  # uploaded, not kept

    as_host(settings, tmp_path, "worker")
    for chunk in ScoringJob.objects.get(pk=job_id).chunks.order_by("index"):
        assert service.score_chunk(chunk.pk) == chunk.rows
    assert not (tmp_path / "worker" / "storage" / "scoring").exists()  # read straight from the bucket
    assert keys(job_id) == ["results.jsonl"]
    job = ScoringJob.objects.get(pk=job_id)
    assert (job.state, job.scored) == ("succeeded", 25)

    as_host(settings, tmp_path, "web")
    res = owner_api.get(f"/api/v1/scoring-jobs/{job_id}/results")
    assert res.status_code == 200
    body = b"".join(res.streaming_content)
    assert hashlib.sha256(body).hexdigest() == job.result_sha256 and len(body) == job.result_bytes
    rows = [json.loads(line) for line in body.splitlines()]
    assert [r["row"] for r in rows] == list(range(25)) and [r["id"] for r in rows[:2]] == ["t0", "t1"]
    assert {r["model_version"] for r in rows} == {version.pk}
    predicted = owner_api.post(f"/api/v1/projects/{project.pk}/predict", {"texts": texts[:3]}, format="json").json()
    for row, p in zip(rows[:3], predicted["predictions"]):
        assert row["scores"] == pytest.approx(p["scores"], abs=1e-5)
    cached = tmp_path / "web" / "storage" / "scoring" / str(job_id) / "results.jsonl"
    assert cached.read_bytes() == body

    # An object replaced in the bucket is not served by a host that has no verified copy.
    get_storage().put_bytes(b'{"row": 0}\n', f"scoring/{job_id}/results.jsonl")
    as_host(settings, tmp_path, "second-web")
    res = owner_api.get(f"/api/v1/scoring-jobs/{job_id}/results")
    assert res.status_code == 503 and "sha256" in res.json()["detail"]

    # Expired by the worker host (on its start, say): the bucket's prefix goes; the web host
    # drops its cached copy the next time it looks at the jobs, and answers 410.
    ScoringJob.objects.filter(pk=job_id).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    as_host(settings, tmp_path, "worker")
    assert service.expire_scoring_results() == 1
    assert keys(job_id) == [] and cached.exists()
    as_host(settings, tmp_path, "web")
    assert owner_api.get(f"/api/v1/scoring-jobs/{job_id}").json()["state"] == "expired"
    assert not cached.exists()
    assert owner_api.get(f"/api/v1/scoring-jobs/{job_id}/results").status_code == 410


def test_cancel_and_project_deletion_empty_the_jobs_prefix(
    s3_store, owner_api, project, django_capture_on_commit_callbacks
):
    make_version(project, tiny_artifact(), current=True)
    cancelled = upload(owner_api, project, ["a", "b", "c"], chunk_size="1").json()["id"]
    running = upload(owner_api, project, ["d", "e"]).json()["id"]
    assert keys(cancelled) == ["input/0.jsonl", "input/1.jsonl", "input/2.jsonl"]
    assert owner_api.post(f"/api/v1/scoring-jobs/{cancelled}/cancel").json()["state"] == "cancelled"
    assert keys(cancelled) == [] and keys(running) == ["input/0.jsonl"]
    with django_capture_on_commit_callbacks(execute=True):
        project.delete()
    assert get_storage().list("scoring") == []
