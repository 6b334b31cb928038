"""GET /projects/<id>/imports/<job>/: the polled progress row of a background import."""
from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import ImportJob, ImportStatus
from tests.web.helpers import HTMX, client_for

pytestmark = pytest.mark.django_db


def job_for(project, **fields):
    return ImportJob.objects.create(project=project, path="/tmp/x.csv", original_name="big.csv",
                                    format="csv", total_bytes=1000, **fields)


def url(project, job):
    return reverse("import-job", args=[project.pk, job.pk])


def test_a_running_job_keeps_polling(project, owner):
    job = job_for(project, status=ImportStatus.RUNNING, processed_bytes=250, imported=40)
    r = client_for(owner).get(url(project, job), **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and 'hx-trigger="every 1s"' in html
    assert "25%" in html and "40 imported" in html


def test_a_finished_job_stops_htmx_polling_with_286(project, owner):
    job = job_for(project, status=ImportStatus.FAILED, errors=[{"line": 7, "message": "no text"}])
    r = client_for(owner).get(url(project, job), **HTMX)
    assert r.status_code == 286
    assert "line 7: no text" in r.content.decode() and "hx-trigger" not in r.content.decode()


def test_outsiders_get_404(project, outsider):
    job = job_for(project)
    assert client_for(outsider).get(url(project, job)).status_code == 404


def test_a_job_of_another_project_is_404(project, owner):
    from tests.conftest import make_project

    other = make_project(owner, "binary", labels=("X",))
    job = job_for(other)
    assert client_for(owner).get(url(project, job)).status_code == 404


def test_the_status_row_reports_a_job_whose_worker_died_as_failed(client, owner, project, tmp_path, settings):
    from datetime import timedelta

    from django.utils import timezone

    from annotator.models import ImportJob, ImportStatus

    settings.VIGIA_IMPORT_STALE_SECONDS = 60
    upload = tmp_path / "u.csv"
    upload.write_text("text\nx\n", encoding="utf-8")
    job = ImportJob.objects.create(project=project, path=str(upload), format="csv", original_name="u.csv",
                                   status=ImportStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=5))
    client.force_login(owner)
    html = client.get(f"/projects/{project.pk}/imports/{job.pk}/").content.decode()
    assert "Failed" in html and "worker lost" in html
    assert not upload.exists()
