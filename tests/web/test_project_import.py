"""POST /projects/<id>/import/: the project page's import form (admins only).

It must show the same errors as the REST import (both call annotator.importers.import_file).
"""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotator.models import Example

pytestmark = pytest.mark.django_db
importers = pytest.importorskip("annotator.importers")

GOOD = b"text\nfirst tweet about floods\nsecond tweet about fires\nfirst tweet about floods\n"
BAD = b'{"text": "ok"}\n{"text": 12}\nnot json\n'


def url(project):
    return reverse("project-import", args=[project.pk])


def upload(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_an_admin_imports_a_csv(project, owner, client):
    client.force_login(owner)
    r = client.post(url(project), {"file": upload(GOOD, "t.csv"), "format": "csv"}, follow=True)
    assert r.status_code == 200
    assert "Imported 2 examples (1 duplicates skipped)." in r.content.decode()
    assert sorted(Example.objects.filter(project=project).values_list("text", flat=True)) == [
        "first tweet about floods", "second tweet about fires"]


def test_a_bad_file_shows_the_same_errors_as_the_importer_and_stores_nothing(project, owner, client):
    import io

    with pytest.raises(importers.ImportFailed) as expected:
        importers.import_file(project, io.BytesIO(BAD), "jsonl")
    assert expected.value.errors
    client.force_login(owner)
    r = client.post(url(project), {"file": upload(BAD, "t.jsonl"), "format": "jsonl"})
    html = r.content.decode()
    assert r.status_code == 400 and "Nothing was imported" in html
    from django.utils.html import escape

    for err in expected.value.errors:
        assert escape(f"line {err['line']}: {err['message']}") in html
    assert not Example.objects.filter(project=project).exists()


def test_a_bad_mapping_is_refused_with_a_clear_error(project, owner, client):
    client.force_login(owner)
    r = client.post(url(project), {"file": upload(GOOD, "t.csv"), "format": "csv", "mapping": "{oops"})
    assert r.status_code == 400 and "mapping: not valid JSON" in r.content.decode()
    assert not Example.objects.exists()


def test_annotators_cannot_import(project, annotator_user, client):
    client.force_login(annotator_user)
    r = client.post(url(project), {"file": upload(GOOD, "t.csv"), "format": "csv"})
    assert r.status_code == 403 and not Example.objects.exists()


def test_outsiders_get_404(project, outsider, client):
    client.force_login(outsider)
    r = client.post(url(project), {"file": upload(GOOD, "t.csv"), "format": "csv"})
    assert r.status_code == 404 and not Example.objects.exists()


def test_a_large_file_becomes_a_background_job_shown_on_the_page(project, owner, client, settings,
                                                                 tmp_path):
    from annotator.models import ImportJob

    settings.VIGIA_IMPORT_ASYNC_BYTES = 10
    settings.VIGIA_UPLOAD_DIR = tmp_path
    client.force_login(owner)
    r = client.post(url(project), {"file": upload(GOOD, "big.csv"), "format": "csv"}, follow=True)
    job = ImportJob.objects.get(project=project)
    assert job.original_name == "big.csv" and job.total_bytes == len(GOOD)
    html = r.content.decode()
    assert f"Importing big.csv in the background (job {job.pk})" in html
    assert reverse("import-job", args=[project.pk, job.pk]) in html and "every 1s" in html
    assert not Example.objects.exists()  # the worker imports it, not the request


MIXED = b"text,labels\nflood downtown,HS\n,TR\nfire,NOPE\nquake,AG\n"


def test_a_refused_file_can_be_imported_skipping_its_bad_rows_without_uploading_it_again(
    project, owner, client, settings, tmp_path
):
    settings.VIGIA_UPLOAD_DIR = tmp_path
    client.force_login(owner)
    r = client.post(url(project), {"file": upload(MIXED, "m.csv"), "format": "csv"})
    html = r.content.decode()
    assert r.status_code == 400 and "Nothing was imported" in html
    assert "line 3: column &#x27;text&#x27;: the text is empty" in html
    assert 'id="import-skip"' in html and "Skip bad rows and import the rest" in html
    token = client.session["import_retry"].popitem()[0]
    assert (tmp_path / "retry" / token).is_file()
    assert not Example.objects.filter(project=project).exists()

    r = client.post(url(project), {"retry": token})
    html = r.content.decode()
    assert r.status_code == 200
    assert "Imported 2 examples (0 duplicates skipped, 2 bad rows left out)." in html
    assert 'id="import-skipped"' in html and "line 4: column &#x27;labels&#x27;: unknown label" in html
    assert sorted(Example.objects.filter(project=project).values_list("text", flat=True)) == [
        "flood downtown", "quake"]
    assert not (tmp_path / "retry" / token).exists()
    # The kept upload is used once.
    again = client.post(url(project), {"retry": token}, follow=True)
    assert "no longer kept" in again.content.decode()


def test_skip_can_be_chosen_on_the_first_upload(project, owner, client):
    client.force_login(owner)
    r = client.post(url(project), {"file": upload(MIXED, "m.csv"), "format": "csv", "on_error": "skip"})
    assert r.status_code == 200 and "2 bad rows left out" in r.content.decode()
    assert Example.objects.filter(project=project).count() == 2


def test_a_retry_token_of_another_session_is_refused(project, owner, client):
    client.force_login(owner)
    r = client.post(url(project), {"retry": "0123456789abcdef0123456789abcdef"}, follow=True)
    assert "no longer kept" in r.content.decode()
    assert not Example.objects.filter(project=project).exists()
