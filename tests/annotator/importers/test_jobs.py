"""Background import jobs, run in-process (the real-worker test is in tests/api)."""
from __future__ import annotations

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotator.importers.jobs import run_import_job, should_import_async, start_import_job
from annotator.models import Example, ImportJob, ImportStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.VIGIA_UPLOAD_DIR = tmp_path / "uploads"
    settings.VIGIA_IMPORT_ASYNC_BYTES = 100


def _upload(body: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("tweets.csv", body.encode(), content_type="text/csv")


def test_only_files_over_the_threshold_go_to_the_background():
    assert not should_import_async(_upload("x" * 100))
    assert should_import_async(_upload("x" * 101))


def test_start_saves_the_upload_and_enqueues_the_task_on_commit(project, owner, django_capture_on_commit_callbacks):
    body = "text,labels\n" + "".join(f"tweet {i},HS\n" for i in range(50))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = start_import_job(project, _upload(body), "csv", {"text": "text"}, owner)
    assert len(callbacks) == 1
    assert job.status == ImportStatus.QUEUED and job.total_bytes == len(body)
    with open(job.path, encoding="utf-8") as saved:
        assert saved.read() == body
    assert job.mapping == {"text": "text"} and job.created_by == owner


def test_run_records_success_counts_progress_and_removes_the_upload(project, owner, django_capture_on_commit_callbacks):
    body = "text,labels\n" + "".join(f"tweet {i},HS\n" for i in range(50)) + "tweet 0,TR\n"
    with django_capture_on_commit_callbacks(execute=False):
        job = start_import_job(project, _upload(body), "csv", None, owner)
    run_import_job(job.pk)
    job.refresh_from_db()
    assert (job.status, job.imported, job.duplicates, job.errors) == (ImportStatus.SUCCEEDED, 50, 1, [])
    assert job.processed_bytes == job.total_bytes and job.progress == 1.0
    assert job.finished_at is not None
    assert Example.objects.filter(project=project).count() == 50
    assert not os.path.exists(job.path)
    run_import_job(job.pk)  # a redelivered message changes nothing
    assert Example.objects.filter(project=project).count() == 50


def test_run_records_the_errors_of_a_bad_file_and_stores_nothing(project, owner, django_capture_on_commit_callbacks):
    body = "text,labels\n" + "".join(f"tweet {i},HS\n" for i in range(50)) + "bad,NOPE\n"
    with django_capture_on_commit_callbacks(execute=False):
        job = start_import_job(project, _upload(body), "csv", None, owner)
    run_import_job(job.pk)
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == ImportStatus.FAILED
    assert job.errors == [{"line": 52, "message": "column 'labels': unknown label 'NOPE'; valid labels: HS, TR, AG"}]
    assert not Example.objects.filter(project=project).exists()
