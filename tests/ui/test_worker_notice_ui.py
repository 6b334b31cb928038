"""The worker notice as a user sees it in Chromium: a run nobody took, on its progress page; a
prediction refresh, an embedding set and a batch scoring job nobody works on."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from annotator.models import EmbeddingChunk, EmbeddingSet
from integrations.models import ScoringChunk, ScoringJob
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


def test_a_scoring_job_nobody_works_on_says_so_with_how_long_in_words(
        login, live_server, project, owner, shot, settings):
    """A batch scoring job whose worker died two hours ago, one chunk of three done, in the
    scoring jobs table (rows written by hand: nothing is sent to a broker)."""
    settings.VIGIA_WORKER_WAIT_SECONDS = 10
    now = timezone.now()
    version = ModelVersion.objects.create(project=project, backend="stepping", artifact_dir="/nowhere",
                                          labels=["HS"], is_current=True)
    job = ScoringJob.objects.create(project=project, model_version=version, original_name="day.jsonl",
                                    input_format="jsonl", rows=6, chunk_size=2, total_chunks=3,
                                    done_chunks=1, scored=2, queue="celery")
    ScoringJob.objects.filter(pk=job.pk).update(created_at=now - dt.timedelta(hours=2, minutes=20))
    ScoringChunk.objects.create(job=job, index=0, first_row=0, rows=2, state="done", attempts=1,
                                started_at=now - dt.timedelta(hours=2, minutes=6),
                                finished_at=now - dt.timedelta(hours=2, minutes=5, seconds=30))
    ScoringChunk.objects.create(job=job, index=1, first_row=2, rows=2, state="running", attempts=1,
                                started_at=now - dt.timedelta(hours=2, minutes=5, seconds=30))
    ScoringChunk.objects.create(job=job, index=2, first_row=4, rows=2)
    page = login(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/scoring/")
    notice = page.locator(f"#scoring-job-{job.pk}-notice .worker-notice")
    notice.wait_for()
    assert re.search(r"No worker has worked on this job for 2 h 5 min: no worker is running", notice.inner_text())
    assert "-Q celery --loglevel=INFO" in notice.locator("code.command").inner_text()
    shot(page, "scoring-job")
