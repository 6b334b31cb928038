"""Mining on a real Celery worker: a project with no vectors yet is embedded first (the mining
task requests the set and retries until it is ready), then mined; a set that fails to embed
fails the run, saying so."""
from __future__ import annotations

import time

import pytest

from annotator.models import Annotation, EmbeddingSet, MiningRun
from tests.annotator.mining_store import add_example
from tests.models_zoo.tiny_hf import tiny_bert_dir

pytestmark = pytest.mark.integration

WORDS = ["flood", "river", "storm", "rain", "sun", "cat", "music", "pizza", "game", "city",
         "road", "school", "water", "bridge", "shelter", "party"]


def wait_for_run(run_id: int, worker, timeout: float = 240) -> MiningRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = MiningRun.objects.get(pk=run_id)
        if run.state in ("succeeded", "failed"):
            return run
        if worker.poll() is not None:
            pytest.fail(f"worker died: {worker.log_path.read_text()[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"mining run {run_id} still {run.state}: {worker.log_path.read_text()[-3000:]}")


def test_mining_embeds_first_then_proposes_and_a_failed_set_fails_the_run(
    celery_worker_process, owner, owner_api, project, tmp_path, monkeypatch
):
    for i in range(6):
        e = add_example(project, f"{WORDS[i]} {WORDS[i + 1]} flood warning {i}")
        Annotation.objects.create(example=e, user=None, labels=["HS"], source="import")
    for i in range(60):
        add_example(project, f"{WORDS[i % 16]} {WORDS[(i * 7) % 16]} {WORDS[(i * 3) % 16]} tweet {i}")
    encoder = str(tiny_bert_dir())
    response = owner_api.post(
        f"/api/v1/projects/{project.pk}/mining",
        {"label": "HS", "band": 1, "tails": "both", "n": 4, "encoder": encoder, "seed": 1},
        format="json",
    )
    assert response.status_code == 202, response.content
    run = wait_for_run(response.json()["mining_run"], celery_worker_process)
    assert run.state == "succeeded", run.error
    assert run.waits >= 1  # it had to wait for the embedding set it requested
    store = EmbeddingSet.objects.get(project=project, encoder=encoder)
    assert store.state == "ready" and store.count == 66
    assert run.proposed == 4 and run.pool_size == 60 and run.positives == 6
    body = owner_api.get(f"/api/v1/mining/{run.pk}/proposals").json()
    assert body["count"] == 4
    assert all(p["status"] == "pending" for p in body["results"])
    mu, sigma = run.mu, run.sigma
    assert all(abs(p["s_an"] - mu) < sigma for p in body["results"])  # band 1, both tails

    broken = tmp_path / "not-a-model"
    broken.mkdir()
    response = owner_api.post(
        f"/api/v1/projects/{project.pk}/mining",
        {"label": "HS", "encoder": str(broken)}, format="json",
    )
    assert response.status_code == 202, response.content
    failed = wait_for_run(response.json()["mining_run"], celery_worker_process)
    assert failed.state == "failed"
    assert "embedding set" in failed.error and "failed" in failed.error
