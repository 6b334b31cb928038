"""Issue 11: work survives a dead worker, and a broker outage is a 503 that leaves nothing behind.

Stale import jobs are reaped (failed, upload removed); a redelivered import message does not run
the job twice; an admin can force-cancel a run whose worker is gone; enqueueing against a broker
that refuses connections answers 503 with no run or job left."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from annotator.importers.jobs import reap_stale_imports, run_import_job
from annotator.models import Example, ImportJob, ImportStatus
from models_zoo.models import RunState, TrainingRun
from tests.conftest import make_project


def stale_job(project, owner, tmp_path, seconds_ago: int = 3600) -> ImportJob:
    upload = tmp_path / "left-behind.csv"
    upload.write_text("text\nhello\n", encoding="utf-8")
    return ImportJob.objects.create(
        project=project, created_by=owner, path=str(upload), format="csv", total_bytes=12,
        status=ImportStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(seconds=seconds_ago),
    )


@pytest.mark.django_db
def test_a_stale_import_job_is_reaped_and_its_upload_removed(project, owner, tmp_path, settings):
    settings.VIGIA_IMPORT_STALE_SECONDS = 60
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    dead = stale_job(project, owner, tmp_path / "a")
    alive = stale_job(project, owner, tmp_path / "b", seconds_ago=5)
    assert reap_stale_imports() == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == ImportStatus.FAILED and dead.finished_at is not None
    assert "worker lost: no heartbeat for more than 60 s" in dead.errors[0]["message"]
    assert not (tmp_path / "a" / "left-behind.csv").exists()
    assert alive.status == ImportStatus.RUNNING and (tmp_path / "b" / "left-behind.csv").exists()


@pytest.mark.django_db
def test_the_status_endpoint_reports_a_dead_import_as_failed(owner_api, project, owner, tmp_path, settings):
    settings.VIGIA_IMPORT_STALE_SECONDS = 60
    job = stale_job(project, owner, tmp_path)
    data = owner_api.get(f"/api/v1/imports/{job.pk}").json()
    assert data["status"] == "failed" and "worker lost" in data["errors"][0]["message"]
    assert not (tmp_path / "left-behind.csv").exists()


@pytest.mark.django_db
def test_a_redelivered_message_for_a_running_job_does_not_import_it_twice(project, owner, tmp_path):
    job = stale_job(project, owner, tmp_path, seconds_ago=1)
    assert run_import_job(job.pk).status == ImportStatus.RUNNING
    assert not Example.objects.filter(project=project).exists()


@pytest.mark.django_db
def test_a_background_job_runs_with_skip_and_records_what_it_left_out(project, owner, tmp_path):
    upload = tmp_path / "mixed.csv"
    upload.write_text("text,labels\nflood,HS\n,TR\nfire,AG\n", encoding="utf-8")
    job = ImportJob.objects.create(project=project, created_by=owner, path=str(upload), format="csv",
                                   total_bytes=upload.stat().st_size, on_error="skip")
    done = run_import_job(job.pk)
    assert (done.status, done.imported, done.skipped) == (ImportStatus.SUCCEEDED, 2, 1)
    assert done.errors == [{"line": 3, "message": "column 'text': the text is empty"}]
    assert done.heartbeat_at is not None and not upload.exists()


def running_run(project, seconds_ago: int = 3600) -> TrainingRun:
    return TrainingRun.objects.create(
        project=project, backend="embedding_head", state=RunState.RUNNING,
        started_at=timezone.now(), heartbeat_at=timezone.now() - timedelta(seconds=seconds_ago),
    )


@pytest.mark.django_db
def test_an_admin_force_cancels_a_run_whose_worker_is_gone(owner_api, annotator_api, project, settings):
    settings.VIGIA_RUN_STALE_SECONDS = 600  # the reaper would not release it for ten minutes
    run = running_run(project, seconds_ago=30)
    assert annotator_api.post(f"/api/v1/runs/{run.pk}/cancel", {"force": True}, format="json").status_code == 403
    plain = owner_api.post(f"/api/v1/runs/{run.pk}/cancel", format="json").json()
    assert (plain["state"], plain["cancel_requested"]) == ("running", True)  # waits for a worker
    forced = owner_api.post(f"/api/v1/runs/{run.pk}/cancel", {"force": True}, format="json")
    assert forced.status_code == 200
    assert forced.json()["state"] == "cancelled"
    run.refresh_from_db()
    assert run.finished_at is not None and "force-cancelled" in run.log
    # The project is free again: the next run is only refused for lack of data, not as a 409.
    again = owner_api.post(f"/api/v1/projects/{project.pk}/train", {"backend": "embedding_head"}, format="json")
    assert again.status_code == 400


@pytest.mark.django_db
def test_force_is_validated_and_also_read_from_the_query(owner_api, project):
    run = running_run(project)
    bad = owner_api.post(f"/api/v1/runs/{run.pk}/cancel", {"force": "perhaps"}, format="json")
    assert bad.status_code == 400 and "force" in bad.json()
    ok = owner_api.post(f"/api/v1/runs/{run.pk}/cancel?force=true")
    assert ok.status_code == 200 and ok.json()["state"] == "cancelled"


@pytest.mark.django_db
def test_the_run_page_offers_force_cancel_once_cancel_was_requested(client, owner, project):
    run = running_run(project, seconds_ago=1)
    client.force_login(owner)
    page = client.get(f"/models/runs/{run.pk}/").content.decode()
    assert 'id="cancel-form"' in page and 'id="force-cancel-form"' not in page
    client.post(f"/models/runs/{run.pk}/cancel")
    page = client.get(f"/models/runs/{run.pk}/").content.decode()
    assert 'id="force-cancel-form"' in page
    client.post(f"/models/runs/{run.pk}/cancel", {"force": "1"})
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED


def trainable_project(owner):
    from annotator.models import Annotation

    project = make_project(owner, "binary", ("on-topic",))
    for i in range(24):
        example = Example.objects.create(project=project, text=f"tweet {i}", normalized_text=f"tweet {i}",
                                         content_hash=f"h{i}")
        Annotation.objects.create(example=example, user=owner, labels=["on-topic"] if i % 2 else [])
    return project


@pytest.mark.django_db(transaction=True)
def test_train_while_the_broker_is_down_is_a_503_and_leaves_no_run(owner, owner_api, broker_down):
    project = trainable_project(owner)
    response = owner_api.post(f"/api/v1/projects/{project.pk}/train", {"backend": "embedding_head"}, format="json")
    assert response.status_code == 503, response.content
    assert "task queue is unavailable" in response.json()["detail"]
    assert not TrainingRun.objects.filter(project=project).exists()


@pytest.mark.django_db(transaction=True)
def test_a_background_import_while_the_broker_is_down_is_a_503_and_leaves_nothing(
    owner, owner_api, broker_down, settings, tmp_path
):
    project = make_project(owner)
    settings.VIGIA_IMPORT_ASYNC_BYTES = 10
    settings.VIGIA_UPLOAD_DIR = tmp_path / "uploads"
    upload = SimpleUploadedFile("big.csv", b"text\nfirst tweet\nsecond tweet\n", content_type="text/csv")
    response = owner_api.post(f"/api/v1/projects/{project.pk}/import", {"file": upload, "format": "csv"}, format="multipart")
    assert response.status_code == 503, response.content
    assert "task queue is unavailable" in response.json()["errors"][0]["message"]
    assert not ImportJob.objects.exists()
    assert list((tmp_path / "uploads").iterdir()) == []


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["[null, null]", '"x"', "1"])
def test_a_cancel_body_that_is_not_an_object_is_a_400(owner_api, project, body):
    run = running_run(project)
    response = owner_api.post(f"/api/v1/runs/{run.pk}/cancel?force=true", body, content_type="application/json")
    assert response.status_code == 400 and "body" in response.json()
