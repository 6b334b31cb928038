"""GET /api/v1/imports/{job_id}, and a large upload imported by a real Celery worker."""
from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotator.models import Example, ImportJob, ImportStatus


@pytest.fixture
def job(project, owner):
    return ImportJob.objects.create(
        project=project, created_by=owner, path="/nonexistent", format="csv", total_bytes=1000,
        processed_bytes=250, rows_seen=40, status=ImportStatus.RUNNING,
    )


@pytest.mark.django_db
def test_the_owner_sees_status_and_progress(owner_api, job):
    response = owner_api.get(f"/api/v1/imports/{job.pk}")
    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["progress"], data["rows_seen"], data["processed_bytes"]) == (
        "running", 0.25, 40, 250)
    assert data["errors"] == [] and data["imported"] == 0 and data["project"] == job.project_id


@pytest.mark.django_db
def test_annotators_and_viewers_are_forbidden(annotator_api, viewer_api, job):
    assert annotator_api.get(f"/api/v1/imports/{job.pk}").status_code == 403
    assert viewer_api.get(f"/api/v1/imports/{job.pk}").status_code == 403


@pytest.mark.django_db
def test_outsiders_and_unknown_ids_get_404(outsider_api, owner_api, job):
    assert outsider_api.get(f"/api/v1/imports/{job.pk}").status_code == 404
    assert owner_api.get(f"/api/v1/imports/{job.pk + 1000}").status_code == 404


@pytest.mark.integration
def test_a_large_upload_is_imported_by_the_worker_with_progress(
    celery_worker_process, owner_api, project, settings, tmp_path
):
    settings.VIGIA_IMPORT_ASYNC_BYTES = 1024
    settings.VIGIA_UPLOAD_DIR = tmp_path / "uploads"
    body = "id,text,HS,TR,AG\n" + "".join(f"{i},tweet number {i} about floods,{i % 2},0,1\n" for i in range(3000))
    upload = SimpleUploadedFile("big.csv", body.encode(), content_type="text/csv")
    response = owner_api.post(f"/api/v1/projects/{project.pk}/import", {"file": upload, "format": "csv"}, format="multipart")
    assert response.status_code == 202, response.content
    status_url = response.json()["status_url"]
    deadline = time.monotonic() + 90
    data = {}
    while time.monotonic() < deadline:
        data = owner_api.get(status_url).json()
        if data["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    assert data["status"] == "succeeded", (data, celery_worker_process.log_path.read_text()[-3000:])
    assert (data["imported"], data["duplicates"], data["progress"]) == (3000, 0, 1.0)
    assert data["rows_seen"] == 3000 and data["finished_at"]
    assert Example.objects.filter(project=project).count() == 3000
    assert Example.objects.get(project=project, external_id="7").annotations.get().labels == ["HS", "AG"]
