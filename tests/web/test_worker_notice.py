"""Pages that wait on a job say when no worker has taken it (or, for a started job, worked on it:
a prediction refresh, an embedding set, a batch scoring job), how long for in words people read,
and give the command that starts one (annotator/services/workers.py); the workers' own
heartbeats are what they read."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from annotator.models import (
    EmbeddingChunk,
    EmbeddingSet,
    ImportJob,
    MiningRun,
    NegativesExperiment,
    Simulation,
    WorkerHeartbeat,
)
from annotator.services.workers import human_duration, notice_for, waiting_notice, worker_command
from integrations.models import ScoringChunk, ScoringJob, ScoringState
from integrations.scoring.service import start_scoring_job
from models_zoo.models import ModelVersion, PredictionChunk, PredictionJobState, TrainingRun
from models_zoo.services.chunked_prediction import start_prediction_job
from models_zoo.services.versions import promote_version
from tests.web.helpers import HTMX, add_examples, client_for
from tests.web.test_models_pages import _version

pytestmark = pytest.mark.django_db

NO_WORKER = "No worker has taken this job for"


def _aged(obj, seconds: float) -> None:
    """Pretend `obj` was queued `seconds` ago (created_at is auto_now_add)."""
    when = timezone.now() - dt.timedelta(seconds=seconds)
    type(obj).objects.filter(pk=obj.pk).update(created_at=when)
    if hasattr(obj, "updated_at"):
        type(obj).objects.filter(pk=obj.pk).update(updated_at=when)
    obj.refresh_from_db()


def _worker(name: str = "w1@host", queues: str = "celery", seen_seconds_ago: float = 1) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(hostname=name, queues=queues, pid=123, started_at=now,
                                   seen_at=now - dt.timedelta(seconds=seen_seconds_ago))


def test_a_young_job_and_a_running_one_get_no_notice(project, settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    run = TrainingRun.objects.create(project=project, backend="embedding_head")
    assert notice_for(run) is None  # queued a moment ago: a worker has not had time
    _aged(run, 60)
    assert notice_for(run) is not None
    run.state = "running"
    assert notice_for(run) is None


def test_the_notice_says_whether_any_worker_lives_and_which_queue_it_reads(settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    settings.VIGIA_WORKER_STALE_SECONDS = 15
    since = timezone.now() - dt.timedelta(seconds=42)
    notice = waiting_notice(since, "celery")
    assert (notice.waited_seconds, notice.live_workers, notice.no_worker) == (42, 0, True)
    assert notice.command.endswith("-m celery -A config worker -Q celery --loglevel=INFO")
    _worker("dead@host", seen_seconds_ago=60)  # stopped beating a minute ago: gone
    assert waiting_notice(since, "celery").live_workers == 0
    _worker("gpu@host", queues="gpu")
    notice = waiting_notice(since, "celery")
    assert (notice.live_workers, notice.live_on_queue, notice.no_worker) == (1, 0, True)
    _worker("cpu@host", queues="celery,gpu")
    notice = waiting_notice(since, "celery")
    assert (notice.live_on_queue, notice.no_worker) == (1, False)


def test_the_command_names_this_installations_python():
    command = worker_command("gpu")
    assert "-m celery -A config worker -Q gpu" in command
    assert command.split()[0].endswith(("python", "python3")) or "python" in command.split()[0]


def test_the_run_progress_page_says_no_worker_took_the_run_and_how_to_start_one(project, owner, settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    run = TrainingRun.objects.create(project=project, backend="embedding_head")
    client = client_for(owner)
    page = client.get(reverse("models-run-progress", args=[run.pk]), **HTMX).content.decode()
    assert NO_WORKER not in page
    _aged(run, 30)
    page = client.get(reverse("models-run-progress", args=[run.pk]), **HTMX).content.decode()
    assert f"{NO_WORKER} 30 s" in page and "no worker is running." in page
    assert "-m celery -A config worker -Q celery --loglevel=INFO" in page
    _worker()
    page = client.get(reverse("models-run-progress", args=[run.pk]), **HTMX).content.decode()
    assert NO_WORKER not in page and "1 worker on <code>celery</code> is busy with other jobs" in page


def test_a_transformer_run_waits_for_the_gpu_queue_when_one_is_configured(project, owner, settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    settings.VIGIA_GPU_QUEUE = "gpu"
    _worker(queues="celery")
    run = TrainingRun.objects.create(project=project, backend="transformer_classifier")
    _aged(run, 30)
    page = client_for(owner).get(reverse("models-run", args=[run.pk])).content.decode()
    assert "no running worker reads the queue <code>gpu</code>" in page
    assert "-Q gpu --loglevel=INFO" in page


def _pages(project):
    """Every other page that waits on a job, with a queued job of its kind."""
    job = ImportJob.objects.create(project=project, path="/tmp/x.csv", original_name="big.csv",
                                   format="csv", total_bytes=10)
    yield job, reverse("import-job", args=[project.pk, job.pk])
    embedding = EmbeddingSet.objects.create(project=project)
    yield embedding, reverse("embeddings", args=[project.pk])
    mining = MiningRun.objects.create(project=project, label="HS")
    yield mining, reverse("mining-run", args=[project.pk, mining.pk])
    experiment = NegativesExperiment.objects.create(project=project, label="HS", group_field="event")
    yield experiment, reverse("mining-experiment", args=[project.pk, experiment.pk])
    simulation = Simulation.objects.create(project=project)
    yield simulation, reverse("simulation", args=[project.pk, simulation.pk])


def test_every_page_that_waits_on_a_job_carries_the_notice(project, owner, settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    client = client_for(owner)
    for job, url in _pages(project):
        assert NO_WORKER not in client.get(url).content.decode(), url
        _aged(job, 25)
        page = client.get(url).content.decode()
        assert f"{NO_WORKER} 25 s" in page, url
        assert "-m celery -A config worker -Q celery" in page, url


# --- started jobs: a prediction refresh, a running embedding set (chunks taken or done, the rest
# waiting) whose worker died. They are flagged once nobody has worked on them for
# VIGIA_WORKER_WAIT_SECONDS and no live worker reads their queue.
STARTED = "No worker has worked on this job for"


def _prediction_job(project, chunks=3):
    """The refresh that follows a promotion, as start_prediction_job cuts it (its chunk tasks
    are never sent: the test transaction does not commit)."""
    add_examples(project, [f"tweet {i}" for i in range(2 * chunks)])
    promote_version(_version(project))
    return start_prediction_job(project, chunk_size=2)


def _at(job, seconds_ago: float, now) -> None:
    """The job was created `seconds_ago` before `now`."""
    type(job).objects.filter(pk=job.pk).update(created_at=now - dt.timedelta(seconds=seconds_ago))
    job.refresh_from_db()


def test_a_running_prediction_job_is_flagged_only_while_no_live_worker_reads_its_queue(project, settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    settings.VIGIA_WORKER_STALE_SECONDS = 15
    job = _prediction_job(project)
    assert (job.state, job.total_chunks, job.queue) == (PredictionJobState.RUNNING, 3, "celery")
    now = timezone.now()
    _at(job, 5, now)
    assert notice_for(job, now) is None  # a moment old: a worker has not had time
    _at(job, 100, now)
    notice = notice_for(job, now)
    assert (notice.started, notice.waited_seconds, notice.queue, notice.live_workers, notice.no_worker) == (
        True, 100, "celery", 0, True)
    assert notice.command.endswith("-m celery -A config worker -Q celery --loglevel=INFO")
    # The last sign of work is the latest chunk start or finish.
    first, second, _third = PredictionChunk.objects.filter(job=job).order_by("index")
    PredictionChunk.objects.filter(pk=first.pk).update(
        state="done", started_at=now - dt.timedelta(seconds=80), finished_at=now - dt.timedelta(seconds=60))
    assert notice_for(job, now).waited_seconds == 60
    PredictionChunk.objects.filter(pk=second.pk).update(state="running", started_at=now - dt.timedelta(seconds=4))
    assert notice_for(job, now) is None  # a worker took a chunk 4 s ago
    PredictionChunk.objects.filter(pk=second.pk).update(started_at=now - dt.timedelta(seconds=40))
    assert notice_for(job, now).waited_seconds == 40
    # A live worker on the queue is working (a long chunk), not gone; a dead one or one on
    # another queue does not count.
    _worker("dead@host", seen_seconds_ago=60)
    assert notice_for(job, now).live_workers == 0
    _worker("gpu@host", queues="gpu")
    notice = notice_for(job, now)
    assert (notice.live_workers, notice.no_worker) == (1, True)
    _worker("cpu@host", queues="celery")
    assert notice_for(job, now) is None
    # Its queue is the job's own (a transformer version's refresh goes to the GPU queue).
    job.queue = "gpu"
    assert notice_for(job, now) is None
    job.queue = "cpu-only"
    assert notice_for(job, now).queue == "cpu-only"
    job.state = PredictionJobState.CANCELLED
    assert notice_for(job, now) is None


def test_a_running_embedding_set_is_flagged_once_its_chunks_stopped_moving(project, settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    now = timezone.now()
    embedding = EmbeddingSet.objects.create(project=project, state="running", progress=0.5)
    done = EmbeddingChunk.objects.create(embedding_set=embedding, example_ids=[1], state="ready",
                                         finished_at=now - dt.timedelta(seconds=20))
    EmbeddingChunk.objects.create(embedding_set=embedding, example_ids=[2])  # still queued
    EmbeddingSet.objects.filter(pk=embedding.pk).update(
        created_at=now - dt.timedelta(seconds=90), updated_at=now - dt.timedelta(seconds=50))
    embedding.refresh_from_db()
    notice = notice_for(embedding, now)
    assert (notice.started, notice.waited_seconds, notice.queue, notice.no_worker) == (True, 20, "celery", True)
    EmbeddingChunk.objects.filter(pk=done.pk).update(finished_at=now - dt.timedelta(seconds=3))
    assert notice_for(embedding, now) is None  # a chunk finished 3 s ago
    EmbeddingChunk.objects.filter(pk=done.pk).update(finished_at=now - dt.timedelta(seconds=30))
    _worker(queues="celery", seen_seconds_ago=1)
    assert notice_for(embedding, now) is None  # a live worker reads the chunks' queue


def _refresh_card(page: str) -> str:
    start = page.index('<p class="card prediction-refresh')
    return page[start:page.index("</p>", start)]


def test_the_versions_page_says_no_worker_works_on_the_prediction_refresh(project, owner, settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    job = _prediction_job(project)
    client = client_for(owner)
    versions = reverse("models-versions", args=[project.pk])
    partial = reverse("models-prediction-refresh", args=[project.pk])
    assert STARTED not in _refresh_card(client.get(versions).content.decode())  # just started
    _at(job, 30, timezone.now())
    for response in (client.get(versions), client.get(partial, **HTMX)):
        card = _refresh_card(response.content.decode())
        assert "Refreshing predictions" in card
        assert f"{STARTED} 30 s" in card and "no worker is running." in card
        assert "-m celery -A config worker -Q celery --loglevel=INFO" in card
    assert client.get(partial, **HTMX).status_code == 200  # still polling
    _worker(queues="celery")
    for response in (client.get(versions), client.get(partial, **HTMX)):
        card = _refresh_card(response.content.decode())
        assert "Refreshing predictions" in card and "worker-notice" not in card


def test_the_embeddings_page_flags_a_running_set_whose_worker_died(project, owner, settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    settings.VIGIA_WORKER_STALE_SECONDS = 15
    embedding = EmbeddingSet.objects.create(project=project, state="running", progress=0.5)
    EmbeddingChunk.objects.create(embedding_set=embedding, example_ids=[1], state="ready",
                                  finished_at=timezone.now())
    EmbeddingChunk.objects.create(embedding_set=embedding, example_ids=[2], state="running")
    client = client_for(owner)
    pages = (reverse("embeddings", args=[project.pk]), reverse("embedding-sets", args=[project.pk]))
    for url in pages:
        page = client.get(url).content.decode()
        assert "worker-notice" not in page and '<td colspan="7"></td>' not in page, url
    _aged(embedding, 25)
    EmbeddingChunk.objects.filter(embedding_set=embedding).update(
        finished_at=timezone.now() - dt.timedelta(seconds=25))
    _worker("died@host", seen_seconds_ago=40)  # its worker stopped beating
    for url in pages:
        page = client.get(url).content.decode()
        assert f"{STARTED} 25 s" in page and "no worker is running." in page, url
        assert "-m celery -A config worker -Q celery --loglevel=INFO" in page, url
    _worker("alive@host", queues="celery")
    for url in pages:
        assert "worker-notice" not in client.get(url).content.decode(), url


# --- batch scoring jobs (integrations): a job is running from its start; its chunks wait on the
# job's own queue (the GPU queue for a transformer version when one is configured).
def _scoring_job(project, backend: str = "stepping", texts: int = 6):
    """A job as the scoring page starts it, in chunks of two (its chunk tasks are never sent:
    the test transaction does not commit)."""
    version = ModelVersion.objects.create(project=project, backend=backend, artifact_dir="/nowhere",
                                          labels=["HS"])
    upload = SimpleUploadedFile("day.jsonl", "".join(
        json.dumps({"id": i, "text": f"flood {i}"}) + "\n" for i in range(texts)).encode())
    return start_scoring_job(project, upload, model_version=version.pk, chunk_size=2)


def test_a_running_scoring_job_is_flagged_only_while_no_live_worker_reads_its_queue(project, settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    settings.VIGIA_WORKER_STALE_SECONDS = 15
    job = _scoring_job(project)
    assert (job.state, job.total_chunks, job.queue) == (ScoringState.RUNNING, 3, "celery")
    now = timezone.now()
    _at(job, 5, now)
    assert notice_for(job, now) is None  # a moment old: a worker has not had time
    _at(job, 100, now)
    notice = notice_for(job, now)
    assert (notice.started, notice.waited_seconds, notice.queue, notice.no_worker) == (True, 100, "celery", True)
    assert notice.command.endswith("-m celery -A config worker -Q celery --loglevel=INFO")
    # The last sign of work is the latest chunk start or finish.
    first, second, _third = ScoringChunk.objects.filter(job=job).order_by("index")
    ScoringChunk.objects.filter(pk=first.pk).update(
        state="done", started_at=now - dt.timedelta(seconds=80), finished_at=now - dt.timedelta(seconds=70))
    assert notice_for(job, now).waited_seconds == 70
    ScoringChunk.objects.filter(pk=second.pk).update(state="running", started_at=now - dt.timedelta(seconds=4))
    assert notice_for(job, now) is None  # a worker took a chunk 4 s ago
    ScoringChunk.objects.filter(pk=second.pk).update(started_at=now - dt.timedelta(seconds=45))
    assert notice_for(job, now).waited_seconds == 45
    _worker("dead@host", seen_seconds_ago=60)  # its heartbeat is stale: gone
    _worker("gpu@host", queues="gpu")  # alive, but not on the job's queue
    notice = notice_for(job, now)
    assert (notice.waited_seconds, notice.live_workers, notice.no_worker) == (45, 1, True)
    _worker("cpu@host", queues="celery")
    assert notice_for(job, now) is None  # a live worker reads the queue: busy with a long chunk
    WorkerHeartbeat.objects.filter(hostname="cpu@host").delete()
    job.state = ScoringState.CANCELLED
    assert notice_for(job, now) is None


def _scoring_row(page: str, job) -> str:
    """The job's rows in the scoring jobs table: its own and those that follow it up to the next job's."""
    start = page.index(f'<tr id="scoring-job-{job.pk}">')
    following = re.compile(r'<tr id="scoring-job-\d+">').search(page, start + 1)
    return page[start:following.start() if following else page.index("</table>", start)]


def test_the_scoring_page_says_no_worker_works_on_a_job_and_how_to_start_one(project, owner, settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    settings.VIGIA_WORKER_STALE_SECONDS = 15
    job = _scoring_job(project)
    done = _scoring_job(project, texts=2)
    ScoringJob.objects.filter(pk=done.pk).update(state=ScoringState.SUCCEEDED, done_chunks=1, scored=2)
    _at(done, 300, timezone.now())
    client = client_for(owner)
    page_url, partial_url = reverse("scoring", args=[project.pk]), reverse("scoring-jobs", args=[project.pk])
    for response in (client.get(page_url), client.get(partial_url, **HTMX)):
        assert "worker-notice" not in response.content.decode()  # just started
    _at(job, 30, timezone.now())
    ScoringChunk.objects.filter(job=job, index=0).update(
        state="running", started_at=timezone.now() - dt.timedelta(seconds=30))
    _worker("died@host", seen_seconds_ago=40)  # its worker stopped beating
    for response in (client.get(page_url), client.get(partial_url, **HTMX)):
        assert response.status_code == 200  # still polling
        page = response.content.decode()
        row = _scoring_row(page, job)
        assert f"{STARTED} 30 s:</strong>" in row and "no worker is running." in row
        assert "-m celery -A config worker -Q celery --loglevel=INFO" in row
        assert page.count("worker-notice") == 1  # not on the finished job
    _worker("alive@host", queues="celery")
    for response in (client.get(page_url), client.get(partial_url, **HTMX)):
        assert "worker-notice" not in response.content.decode()


def test_a_transformer_scoring_job_waits_for_the_gpu_queue_and_says_how_long_for_people(
        project, owner, settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    settings.VIGIA_GPU_QUEUE = "gpu"
    _worker(queues="celery")
    job = _scoring_job(project, backend="transformer_classifier")
    assert job.queue == "gpu"
    _at(job, 2 * 3600 + 5 * 60 + 12, timezone.now())
    row = _scoring_row(client_for(owner).get(reverse("scoring", args=[project.pk])).content.decode(), job)
    assert f"{STARTED} 2 h 5 min:</strong>" in row
    assert 'data-waited-seconds="7512"' in row
    assert "no running worker reads the queue <code>gpu</code>" in row and "-Q gpu --loglevel=INFO" in row


@pytest.mark.parametrize(("seconds", "said"), [
    (0, "0 s"), (9.7, "9 s"), (78, "78 s"), (119, "119 s"),
    (120, "2 min"), (4 * 60 + 59, "4 min"), (59 * 60 + 59, "59 min"),
    (3600, "1 h"), (4000, "1 h 6 min"), (2 * 3600 + 5 * 60 + 59, "2 h 5 min"), (23 * 3600 + 59 * 60, "23 h 59 min"),
    (86400, "1 day"), (86400 + 4 * 3600 + 1800, "1 day 4 h"), (2 * 86400 - 1, "1 day 23 h"),
    (2 * 86400, "2 days"), (3 * 86400 + 7 * 3600, "3 days"), (-5, "0 s"),
])
def test_a_wait_is_written_for_people(seconds, said):
    assert human_duration(seconds) == said


def test_the_notice_writes_a_long_wait_for_people(project, owner, settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    run = TrainingRun.objects.create(project=project, backend="embedding_head")
    _aged(run, 4000)
    page = client_for(owner).get(reverse("models-run-progress", args=[run.pk]), **HTMX).content.decode()
    assert f"{NO_WORKER} 1 h 6 min:</strong>" in page and "4000 s" not in page
    _worker()
    page = client_for(owner).get(reverse("models-run-progress", args=[run.pk]), **HTMX).content.decode()
    assert "Queued for 1 h 6 min:</strong>" in page
