"""Training on a real Celery worker (real Redis, real worker process, real models).

1. Import 60 real CrisisLex T6 tweets (the sample in tests/fixtures), train embedding_head through POST /train, watch the run
   succeed, promote the version, predict over REST.
2. Kill the worker (SIGKILL) in the middle of a run: after VIGIA_RUN_STALE_SECONDS the run reads
   as failed ("worker lost") and the previously promoted model is still current and serving.
3. A worker that starts marks runs left running by a dead worker failed (worker_ready).
4. Kill the worker in the middle of a run and force-cancel it at once: the project trains again
   without waiting for the stale limit.
"""
from __future__ import annotations

import csv
import os
import signal
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from annotator.importers import import_file
from models_zoo.models import ModelVersion, Prediction, RunState, TrainingRun
from models_zoo.services.training import start_training_run
from models_zoo.services.training_worker import run_training
from models_zoo.services.versions import promote_version
from tests.conftest import make_project

pytestmark = pytest.mark.integration

STALE_SECONDS = 3
CRISISLEX = "crisislex/CrisisLexT6/2013_Alberta_Floods/2013_Alberta_Floods-ontopic_offtopic.csv"


def wait_for(predicate, timeout: float, what: str, worker) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"worker died while waiting for {what}: {worker.log_path.read_text()[-3000:]}")
        time.sleep(0.5)
    log = worker.log_path.read_text()[-3000:] if worker is not None else ""
    pytest.fail(f"timed out after {timeout}s waiting for {what}: {log}")


def crisislex_project(owner, folder: Path, tmp_path: Path, n_per_class: int = 30):
    """A binary on-topic project holding the first `n_per_class` on- and off-topic tweets."""
    rows = {"on-topic": [], "off-topic": []}
    with open(folder / CRISISLEX, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, skipinitialspace=True):
            bucket = rows[row["label"]]
            if len(bucket) < n_per_class:
                bucket.append(row)
    sample = tmp_path / "alberta.csv"
    with open(sample, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["tweet id", "tweet", "label"])
        writer.writeheader()
        for on, off in zip(rows["on-topic"], rows["off-topic"]):
            writer.writerow(on)
            writer.writerow(off)
    project = make_project(owner, "binary", labels=("on-topic",))
    result = import_file(project, sample, "csv", mapping={
        "text": "tweet", "id": "tweet id", "labels": "label",
        "label_values": {"on-topic": "on-topic", "off-topic": None},
    })
    assert result.imported + result.duplicates == 2 * n_per_class
    return project


@pytest.fixture
def worker_env(monkeypatch, settings):
    """Environment of the worker the next fixture starts, and the same knobs in this process."""
    monkeypatch.setenv("VIGIA_RUN_STALE_SECONDS", str(STALE_SECONDS))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    settings.VIGIA_RUN_STALE_SECONDS = STALE_SECONDS


@pytest.fixture
def worker(worker_env, celery_worker_process):
    return celery_worker_process


def test_train_promote_and_predict_through_a_real_worker(worker, owner, owner_api, sample_datasets, tmp_path):
    project = crisislex_project(owner, sample_datasets, tmp_path)
    started = owner_api.post(f"/api/v1/projects/{project.pk}/train",
                             {"backend": "embedding_head", "config": {"device": "cpu"}}, format="json")
    assert started.status_code == 202, started.content
    run_id = started.json()["run"]

    seen_states = set()

    def finished() -> bool:
        body = owner_api.get(f"/api/v1/runs/{run_id}").json()
        seen_states.add(body["state"])
        return body["state"] not in ("queued", "running")

    wait_for(finished, 240, "the training run", worker)
    body = owner_api.get(f"/api/v1/runs/{run_id}").json()
    assert body["state"] == "succeeded", body
    assert body["progress"] == 1.0 and body["model_version"]
    assert "vigia.train_model" in worker.log_path.read_text()

    version_id = body["model_version"]
    listed = owner_api.get(f"/api/v1/projects/{project.pk}/models/").json()
    assert [v["id"] for v in listed] == [version_id]
    assert listed[0]["data_snapshot_summary"]["n_examples"] == 60
    assert listed[0]["data_snapshot_summary"]["n_validation"] == 12
    assert listed[0]["metrics"]["f1_macro"] > 0.5  # on-topic vs off-topic is learnable from 48 tweets

    promoted = owner_api.post(f"/api/v1/models/{version_id}/promote")
    assert promoted.status_code == 200 and promoted.json()["is_current"]

    predicted = owner_api.post(
        f"/api/v1/projects/{project.pk}/predict",
        {"texts": ["Flood waters rising in downtown Calgary, evacuate now",
                   "Just finished my coffee, great morning"]},
        format="json",
    )
    assert predicted.status_code == 200, predicted.content
    answer = predicted.json()
    assert answer["model_version"] == version_id
    assert [set(p["scores"]) for p in answer["predictions"]] == [{"on-topic"}, {"on-topic"}]
    flood, coffee = (p["scores"]["on-topic"] for p in answer["predictions"])
    assert flood > coffee

    # Promotion refreshes the annotators' suggestions: the worker predicts every example.
    wait_for(
        lambda: Prediction.objects.filter(model_version_id=version_id).count() == 60,
        120, "the suggestions of the promoted version", worker,
    )

    # The CLI enqueues the same way and --wait follows the run on the worker to its end.
    out = StringIO()
    call_command("train", str(project.pk), "--backend", "embedding_head", "--config",
                 '{"device": "cpu", "seed": 3}', "--wait", "--timeout", "240", stdout=out)
    printed = out.getvalue()
    assert "queued" in printed and "succeeded" in printed
    second = TrainingRun.objects.filter(project=project).order_by("-id").first()
    assert second.pk != run_id and second.model_version.data_snapshot["seed"] == 3
    # A new version does not replace the promoted one (auto-promote is off).
    assert ModelVersion.objects.get(project=project, is_current=True).pk == version_id


def _kill_worker(proc) -> None:
    """SIGKILL the worker we started and its pool children: no chance to clean up."""
    children_file = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    children = [int(pid) for pid in children_file.read_text().split()] if children_file.exists() else []
    for pid in [*children, proc.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)


def test_a_killed_worker_leaves_the_run_failed_and_the_current_model_serving(
    worker, owner, owner_api, sample_datasets, tmp_path
):
    project = crisislex_project(owner, sample_datasets, tmp_path)
    # The model that serves now: trained in this process, promoted.
    first = start_training_run(project, "embedding_head", {"device": "cpu"}, owner, enqueue=False)
    current = promote_version(run_training(first.pk))

    # A long run on the worker: an AT-BiLSTM with many epochs and no early stop.
    long_config = {"epochs": 200, "early_stopping_patience": 200, "batch_size": 2, "hidden_size": 256,
                   "num_layers": 3, "embedding_dim": 128, "device": "cpu"}
    started = owner_api.post(f"/api/v1/projects/{project.pk}/train",
                             {"backend": "attention_bilstm", "config": long_config}, format="json")
    assert started.status_code == 202, started.content
    run_id = started.json()["run"]

    def running_with_progress() -> bool:
        run = TrainingRun.objects.get(pk=run_id)
        assert run.state in (RunState.QUEUED, RunState.RUNNING), (run.state, run.error)
        return run.state == RunState.RUNNING and run.epoch is not None

    wait_for(running_with_progress, 120, "the run to be running", worker)
    _kill_worker(worker)
    killed_at = time.monotonic()

    # Right after the kill the run still looks alive (its heartbeat is fresh) ...
    assert owner_api.get(f"/api/v1/runs/{run_id}").json()["state"] == "running"
    # ... and a second run is refused meanwhile.
    assert owner_api.post(f"/api/v1/projects/{project.pk}/train",
                          {"backend": "embedding_head"}, format="json").status_code == 409

    def failed() -> bool:
        return owner_api.get(f"/api/v1/runs/{run_id}").json()["state"] == "failed"

    wait_for(failed, STALE_SECONDS + 15, "the stale run to be reaped", None)
    assert time.monotonic() - killed_at >= STALE_SECONDS - 1
    body = owner_api.get(f"/api/v1/runs/{run_id}").json()
    assert "worker lost" in body["error"] and body["model_version"] is None
    assert ModelVersion.objects.get(project=project, is_current=True).pk == current.pk
    assert ModelVersion.objects.filter(project=project).count() == 1

    answer = owner_api.post(f"/api/v1/projects/{project.pk}/predict",
                            {"texts": ["Bow river flooding, roads closed"]}, format="json")
    assert answer.status_code == 200 and answer.json()["model_version"] == current.pk
    # The project trains again once the dead run is out of the way.
    again = owner_api.post(f"/api/v1/projects/{project.pk}/train",
                           {"backend": "embedding_head"}, format="json")
    assert again.status_code == 202


@pytest.fixture
def run_left_by_a_dead_worker(transactional_db, owner):
    project = make_project(owner, labels=("HS",))
    return TrainingRun.objects.create(project=project, backend="embedding_head", state=RunState.RUNNING,
                                      heartbeat_at=timezone.now() - timedelta(hours=1))


def test_a_starting_worker_reaps_runs_left_by_a_dead_one(run_left_by_a_dead_worker, worker):
    run_id = run_left_by_a_dead_worker.pk
    # Nobody reads the run through the API here: the new worker's worker_ready handler does it.
    wait_for(lambda: TrainingRun.objects.get(pk=run_id).state == RunState.FAILED, 20,
             "the worker to reap the run", worker)
    assert "worker lost" in TrainingRun.objects.get(pk=run_id).error


def test_an_admin_force_cancels_a_run_whose_worker_was_killed(
    worker, owner, owner_api, sample_datasets, tmp_path, settings
):
    settings.VIGIA_RUN_STALE_SECONDS = 600  # this process would not reap it for ten minutes
    project = crisislex_project(owner, sample_datasets, tmp_path)
    long_config = {"epochs": 200, "early_stopping_patience": 200, "batch_size": 2, "hidden_size": 256,
                   "num_layers": 3, "embedding_dim": 128, "device": "cpu"}
    started = owner_api.post(f"/api/v1/projects/{project.pk}/train",
                             {"backend": "attention_bilstm", "config": long_config}, format="json")
    assert started.status_code == 202, started.content
    run_id = started.json()["run"]
    wait_for(lambda: TrainingRun.objects.get(pk=run_id).epoch is not None, 120, "the run to train", worker)
    _kill_worker(worker)

    plain = owner_api.post(f"/api/v1/runs/{run_id}/cancel", format="json").json()
    assert plain["state"] == "running"  # nobody is left to act on the request
    forced = owner_api.post(f"/api/v1/runs/{run_id}/cancel", {"force": True}, format="json")
    assert forced.status_code == 200 and forced.json()["state"] == "cancelled"
    again = owner_api.post(f"/api/v1/projects/{project.pk}/train", {"backend": "embedding_head"}, format="json")
    assert again.status_code == 202, again.content
