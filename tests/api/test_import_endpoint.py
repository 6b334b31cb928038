"""POST /api/v1/projects/{id}/import"""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotator.models import Example, ImportJob
from tests.conftest import make_project

pytestmark = pytest.mark.django_db

GOOD = "tweet id,tweet,HS,TR,AG\n'1',first tweet,1,0,1\n'2',second tweet,0,0,0\n'3',FIRST  tweet,1,1,1\n"


def url(project) -> str:
    return f"/api/v1/projects/{project.pk}/import"


def upload(body: str = GOOD, name: str = "tweets.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body.encode(), content_type="text/csv")


def test_it_imports_for_the_owner(owner_api, project):
    response = owner_api.post(url(project), {"file": upload(), "format": "csv"}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json() == {"imported": 2, "duplicates": 1, "skipped": 0, "errors": []}
    first = Example.objects.get(project=project, external_id="1")
    annotation = first.annotations.get()
    assert (annotation.labels, annotation.source, annotation.user) == (["HS", "AG"], "import", None)


def test_it_takes_a_json_mapping(owner_api, project):
    body = "words,tags\nhello there,TR\n"
    response = owner_api.post(
        url(project),
        {"file": upload(body), "format": "csv", "mapping": json.dumps({"text": "words", "labels": "tags"})},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert Example.objects.get(project=project).annotations.get().labels == ["TR"]


def test_it_lists_bad_rows_with_line_numbers_and_stores_nothing(owner_api, project):
    body = GOOD + "'4',fine,1,0,0\n'5',,1,0,0\n'6',bad flag,2,0,0\n"
    response = owner_api.post(url(project), {"file": upload(body), "format": "csv"}, format="multipart")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["line"] for e in errors] == [6, 7]
    assert "text is empty" in errors[0]["message"] and "'HS'" in errors[1]["message"]
    assert not Example.objects.filter(project=project).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"format": "csv"}, "file"),
        ({"file": "FILE"}, "format"),
        ({"file": "FILE", "format": "xlsx"}, "format"),
        ({"file": "FILE", "format": "csv", "mapping": "{not json"}, "mapping"),
        ({"file": "FILE", "format": "csv", "mapping": "[1]"}, "mapping"),
    ],
)
def test_it_names_the_field_of_a_bad_request(owner_api, project, data, field):
    data = {k: upload() if v == "FILE" else v for k, v in data.items()}
    response = owner_api.post(url(project), data, format="multipart")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == field and error["message"].startswith(f"{field}:")


def test_it_rejects_a_mapping_with_unknown_keys(owner_api, project):
    response = owner_api.post(
        url(project), {"file": upload(), "format": "csv", "mapping": '{"txt": "tweet"}'}, format="multipart"
    )
    assert response.status_code == 400
    assert "mapping: txt" in response.json()["errors"][0]["message"]


def test_it_forbids_annotators_and_viewers(annotator_api, viewer_api, project):
    for client in (annotator_api, viewer_api):
        response = client.post(url(project), {"file": upload(), "format": "csv"}, format="multipart")
        assert response.status_code == 403
    assert not Example.objects.filter(project=project).exists()


def test_it_hides_the_project_from_outsiders(outsider_api, project):
    response = outsider_api.post(url(project), {"file": upload(), "format": "csv"}, format="multipart")
    assert response.status_code == 404
    assert not Example.objects.filter(project=project).exists()


def test_it_requires_authentication(client, project):
    response = client.post(url(project), {"file": upload(), "format": "csv"})
    assert response.status_code in (401, 403)


def test_large_files_become_a_background_job(owner_api, project, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.VIGIA_IMPORT_ASYNC_BYTES = 10
    settings.VIGIA_UPLOAD_DIR = tmp_path
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_api.post(url(project), {"file": upload(), "format": "csv"}, format="multipart")
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(pk=response.json()["job"])
    assert response.json()["status_url"].endswith(f"/api/v1/imports/{job.pk}")
    assert (job.project, job.format, job.status, job.total_bytes) == (project, "csv", "queued", len(GOOD))
    assert len(callbacks) == 1  # the task is enqueued only once the request's data is committed
    assert not Example.objects.filter(project=project).exists()


def test_it_reports_the_broken_trump_row_of_a_disk_buffered_upload(owner_api, owner, sample_datasets, settings):
    viral = make_project(owner, "binary", ("viral",))
    path = sample_datasets / "trump_tweets/trump_tweets.csv"
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # Django spools the upload to a temporary file
    with open(path, "rb") as f:
        response = owner_api.post(url(viral), {"file": f, "format": "csv"}, format="multipart")
    assert response.status_code == 400
    assert [e["line"] for e in response.json()["errors"]] == [62]
    assert not Example.objects.filter(project=viral).exists()
