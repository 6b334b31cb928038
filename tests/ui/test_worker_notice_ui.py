"""The worker notice as a user sees it: a run nobody took, on its progress page in Chromium."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from annotator.models import EmbeddingChunk, EmbeddingSet
from models_zoo.models import ModelVersion, PredictionChunk, PredictionJob, TrainingRun

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def test_a_run_no_worker_took_says_so_with_the_command(login, live_server, project, owner, shot, settings):
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    run = TrainingRun.objects.create(project=project, backend="embedding_head")
    TrainingRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - dt.timedelta(seconds=75))
    page = login(owner)
    page.goto(f"{live_server.url}/models/runs/{run.pk}/")
    notice = page.locator(".worker-notice")
    notice.wait_for()
    assert re.search(r"No worker has taken this job for [789]\d s: no worker is running", notice.inner_text())
    assert "-m celery -A config worker -Q celery --loglevel=INFO" in notice.locator("code.command").inner_text()
    shot(page, "run-waiting")


def test_a_prediction_refresh_and_an_embedding_set_nobody_works_on_say_so(
        login, live_server, project, owner, shot, settings):
    """Started jobs whose worker died: the refresh card on the versions page, a running set on
    the embeddings page (rows written by hand: nothing is sent to a broker)."""
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    long_ago = timezone.now() - dt.timedelta(seconds=75)
    version = ModelVersion.objects.create(project=project, backend="stepping", artifact_dir="/nowhere",
                                          labels=["HS"], is_current=True)
    job = PredictionJob.objects.create(project=project, model_version=version, chunk_size=2,
                                       total_chunks=2, done_chunks=1, examples=4, predicted=2, queue="celery")
    PredictionJob.objects.filter(pk=job.pk).update(created_at=long_ago)
    PredictionChunk.objects.create(job=job, index=0, first_id=1, last_id=2, examples=2, state="done",
                                   started_at=long_ago, finished_at=long_ago)
    PredictionChunk.objects.create(job=job, index=1, first_id=3, last_id=4, examples=2)
    embedding = EmbeddingSet.objects.create(project=project, state="running", progress=0.5, count=2)
    EmbeddingChunk.objects.create(embedding_set=embedding, example_ids=[1, 2], state="ready", count=2,
                                  finished_at=long_ago)
    EmbeddingChunk.objects.create(embedding_set=embedding, example_ids=[3, 4], state="running")
    EmbeddingSet.objects.filter(pk=embedding.pk).update(created_at=long_ago, updated_at=long_ago)
    page = login(owner)
    started = r"No worker has worked on this job for [789]\d s: no worker is running"
    page.goto(f"{live_server.url}/models/projects/{project.pk}/versions/")
    notice = page.locator("#prediction-refresh .worker-notice")
    notice.wait_for()
    assert re.search(started, notice.inner_text())
    assert "-Q celery --loglevel=INFO" in notice.locator("code.command").inner_text()
    shot(page, "prediction-refresh")
    page.goto(f"{live_server.url}/projects/{project.pk}/embeddings/")
    notice = page.locator("#embedding-sets .worker-notice")
    notice.wait_for()
    assert re.search(started, notice.inner_text())
    shot(page, "embedding-set")
