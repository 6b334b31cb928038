"""Issue 20: with a task queue that refuses connections, every endpoint that enqueues answers
503 quickly and leaves no row behind or marks its row failed with the reason; pages show a clear
message. Every task message goes through `config.enqueue` (checked statically below).

`broker_down` (tests/conftest.py) points this process's publishing at a port nothing listens on:
a real refusal by the OS, no mock of the broker.
"""
from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

import pytest

from annotator.models import Annotation, EmbeddingSet, Example, Project
from annotator.models_embeddings import EmbeddingState
from annotator.models_mining import MiningRun, MiningState, NegativesExperiment
from annotator.models_simulation import Simulation, SimulationState
from config.enqueue import BrokerUnavailable, enqueue
from models_zoo.models import (
    ModelVersion,
    PredictionJob,
    PredictionJobState,
    RunState,
    TrainingRun,
)
from tests.api.factories import annotate, make_example
from tests.conftest import make_project

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def refused(response) -> str:
    assert response.status_code == 503, (response.status_code, response.content[:400])
    assert response["Retry-After"]
    detail = response.json()["detail"]
    assert "task queue is unavailable" in detail and "Connection refused" in detail
    return detail


def current_version(project) -> ModelVersion:
    run = TrainingRun.objects.create(project=project, backend="embedding_head", state="succeeded")
    return ModelVersion.objects.create(project=project, run=run, backend="embedding_head",
                                       artifact_dir="/nonexistent", labels=["HS", "TR", "AG"],
                                       is_current=True)


def examples(project, n: int = 4, **meta) -> list[Example]:
    return [make_example(project, f"tweet number {i} about floods", meta={"event": "ab"[i % 2], **meta})
            for i in range(n)]


def test_predict_all_is_a_503_and_its_job_is_failed_with_the_reason(owner_api, project, broker_down):
    examples(project)
    current_version(project)
    detail = refused(owner_api.post(f"/api/v1/projects/{project.pk}/predict-all", format="json"))
    job = PredictionJob.objects.get(project=project)
    assert job.state == PredictionJobState.FAILED and job.finished_at is not None
    assert "could not enqueue the prediction chunks" in job.error and "refused" in job.error
    assert "Connection refused" in detail


def test_a_prediction_job_is_a_503_and_failed_then_resumes_when_the_queue_is_back(
    owner_api, project, broker_down
):
    examples(project)
    version = current_version(project)
    refused(owner_api.post(f"/api/v1/projects/{project.pk}/prediction-jobs",
                           {"model_version": version.pk, "chunk_size": None}, format="json"))
    job = PredictionJob.objects.get(project=project)
    assert job.state == PredictionJobState.FAILED and "Connection refused" in job.error
    assert job.chunk_size == 2048  # null means the default, not a TypeError
    # Resuming while the queue is still down: the same answer, still failed, not "running".
    refused(owner_api.post(f"/api/v1/prediction-jobs/{job.pk}/resume", format="json"))
    job.refresh_from_db()
    assert job.state == PredictionJobState.FAILED
    listed = owner_api.get(f"/api/v1/prediction-jobs/{job.pk}").json()
    assert listed["state"] == "failed" and "could not enqueue" in listed["error"]


def test_a_simulation_is_a_503_and_failed_with_the_reason(owner_api, project, broker_down):
    refused(owner_api.post(f"/api/v1/projects/{project.pk}/simulations", {}, format="json"))
    simulation = Simulation.objects.get(project=project)
    assert simulation.state == SimulationState.FAILED and simulation.finished_at is not None
    assert "task queue is unavailable" in simulation.error and "refused" in simulation.error


def test_embeddings_are_a_503_and_the_set_is_failed_with_the_reason(owner_api, project, broker_down):
    examples(project)
    refused(owner_api.post(f"/api/v1/projects/{project.pk}/embeddings", {}, format="json"))
    embedding_set = EmbeddingSet.objects.get(project=project)
    assert embedding_set.state == EmbeddingState.FAILED
    assert "could not enqueue the embedding tasks" in embedding_set.error


def test_mining_is_a_503_and_the_run_is_failed_with_the_reason(owner_api, owner, project, broker_down):
    first, *_ = examples(project)
    annotate(first, owner, ["HS"])
    refused(owner_api.post(f"/api/v1/projects/{project.pk}/mining", {"label": "HS"}, format="json"))
    run = MiningRun.objects.get(project=project)
    assert run.state == MiningState.FAILED and "could not enqueue the mining task" in run.error


def test_a_negatives_experiment_is_a_503_and_failed_with_the_reason(owner_api, owner, project, broker_down):
    first, *_ = examples(project)
    annotate(first, owner, ["HS"])
    refused(owner_api.post(f"/api/v1/projects/{project.pk}/negatives-experiments",
                           {"label": "HS"}, format="json"))
    experiment = NegativesExperiment.objects.get(project=project)
    assert experiment.state == MiningState.FAILED and "could not enqueue" in experiment.error


def test_a_queue_strategy_change_is_a_503_and_is_taken_back(owner_api, project, broker_down):
    before = Project.objects.get(pk=project.pk).queue_strategy
    refused(owner_api.patch(f"/api/v1/projects/{project.pk}/", {"queue_strategy": "margin"}, format="json"))
    assert Project.objects.get(pk=project.pk).queue_strategy == before


def test_the_queue_page_says_the_queue_is_down_and_keeps_the_strategy(client, owner, project, broker_down):
    client.force_login(owner)
    response = client.post(f"/projects/{project.pk}/queue/", {"queue_strategy": "entropy"})
    assert response.status_code == 503
    page = response.content.decode()
    assert "Temporarily unavailable" in page and "task queue is unavailable" in page
    assert Project.objects.get(pk=project.pk).queue_strategy != "entropy"


def test_the_embeddings_page_shows_a_clear_message(client, owner, project, broker_down):
    examples(project)
    client.force_login(owner)
    response = client.post(f"/projects/{project.pk}/embeddings/compute/", {})
    assert response.status_code == 503
    assert "task queue is unavailable" in response.content.decode()
    assert EmbeddingSet.objects.get(project=project).state == EmbeddingState.FAILED


def test_the_embedding_map_page_is_a_503_and_leaves_no_pending_job(
    client, owner, project, broker_down, settings, tmp_path
):
    settings.VIGIA_ARTIFACTS_DIR = tmp_path
    EmbeddingSet.objects.create(project=project, encoder="default", state=EmbeddingState.READY,
                                progress=1.0, count=0)
    client.force_login(owner)
    response = client.post(f"/models/projects/{project.pk}/map/")
    assert response.status_code == 503
    assert "task queue is unavailable" in response.content.decode()
    assert not list(tmp_path.rglob("*pending*"))  # no marker saying a map is being computed


def trainable(owner) -> Project:
    project = make_project(owner, "binary", ("on-topic",))
    for i in range(24):
        example = make_example(project, f"tweet {i} on the road")
        annotate(example, owner, ["on-topic"] if i % 2 else [])
    return project


def test_the_train_page_shows_a_clear_message_and_leaves_no_run(client, owner, broker_down):
    project = trainable(owner)
    client.force_login(owner)
    response = client.post(f"/models/projects/{project.pk}/runs/start", {"backend": "embedding_head"})
    assert response.status_code == 503
    assert "task queue is unavailable" in response.content.decode()
    assert not TrainingRun.objects.filter(project=project).exists()


def test_the_retrain_policy_marks_its_run_failed_and_the_annotation_is_stored(owner, broker_down):
    from tests.conftest import api_client_for

    project = trainable(owner)
    Project.objects.filter(pk=project.pk).update(retrain_every=1)  # the policy, from now on
    example = make_example(project, "a new tweet to label")
    response = api_client_for(owner).post(
        f"/api/v1/projects/{project.pk}/examples/{example.pk}/annotations",
        {"labels": ["on-topic"]}, format="json",
    )
    assert response.status_code == 201, response.content  # the write is stored: never a 5xx
    assert Annotation.objects.filter(example=example, user=owner).exists()
    run = TrainingRun.objects.get(project=project)
    assert run.state == RunState.FAILED and "could not enqueue the training task" in run.error


def test_a_refused_broker_answers_within_a_second(broker_down):
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable, match="Connection refused"):
        enqueue("vigia.simulate", [1])
    # One connection attempt, no retry loop (config/enqueue.py).
    assert time.monotonic() - started < 3


@pytest.fixture
def silent_broker():
    """A broker address whose TCP handshake never completes: a listening socket whose backlog
    is full, so the kernel drops further SYNs (as a firewall or a dead host would)."""
    from config.celery import app

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    # The transport's timeouts are the settings' own (VIGIA_BROKER_TIMEOUT, 3 s by default).
    old = app.conf.broker_write_url
    app.conf.broker_write_url = f"redis://127.0.0.1:{port}/0"
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_write_url = old
        app._pool = None
        app.amqp._producer_pool = None
        for filler in fillers:
            filler.close()
        server.close()


def test_a_silent_broker_is_refused_after_the_timeout_not_the_tcp_default(silent_broker):
    outcome: list[BaseException] = []

    def send() -> None:
        try:
            enqueue("vigia.simulate", [1])
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome.append(exc)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    thread.join(timeout=30)  # without the timeouts this waits for the OS: minutes
    assert not thread.is_alive(), "enqueue hung on a broker that does not answer"
    assert outcome and isinstance(outcome[0], BrokerUnavailable)


def test_every_task_message_goes_through_config_enqueue():
    """Services send tasks by name through one helper; nobody else publishes or imports tasks."""
    sending = re.compile(r"\.apply_async\(|\.delay\(|\.send_task\(|\.retry\(")
    importing_tasks = re.compile(r"^\s*(from tasks\b|import tasks\b)", re.M)
    offenders = []
    for package in ("annotator", "models_zoo", "config", "tasks"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            rel = path.relative_to(ROOT).as_posix()
            if rel != "config/enqueue.py" and sending.search(text):
                offenders.append(f"{rel} sends a task itself")
            if package in ("annotator", "models_zoo") and importing_tasks.search(text):
                offenders.append(f"{rel} imports tasks")
    assert offenders == []
