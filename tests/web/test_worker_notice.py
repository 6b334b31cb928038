"""Pages that wait on a job say when no worker has taken it, and give the command that starts
one (annotator/services/workers.py); the workers' own heartbeats are what they read."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from annotator.models import (
    EmbeddingSet,
    ImportJob,
    MiningRun,
    NegativesExperiment,
    Simulation,
    WorkerHeartbeat,
)
from annotator.services.workers import notice_for, waiting_notice, worker_command
from models_zoo.models import TrainingRun
from tests.web.helpers import HTMX, client_for

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
