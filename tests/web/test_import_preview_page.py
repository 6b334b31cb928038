"""POST /projects/<id>/import/preview/: upload, preview with a dropdown per column, import."""
from __future__ import annotations

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotator.models import Example
from tests.web.helpers import client_for

pytestmark = pytest.mark.django_db

CSV = b"words,tags,when\nflood downtown,HS,2020-01-01\nfire,NOPE,2020-01-02\n"


def url(project):
    return reverse("project-import-preview", args=[project.pk])


def test_upload_preview_fix_the_mapping_and_import(project, owner, settings, tmp_path):
    settings.VIGIA_UPLOAD_DIR = tmp_path
    client = client_for(owner)
    first = client.post(url(project), {"file": SimpleUploadedFile("t.csv", CSV), "format": "csv"})
    page = html.unescape(first.content.decode())
    assert first.status_code == 200 and not Example.objects.exists()
    assert "no text column among words, tags, when" in page
    assert page.index('id="import-errors"') < page.index('id="preview-table"')  # errors on top
    token = client.session["import_preview"].popitem()[0]
    roles = {"token": token, "role-0": "text", "role-1": "labels", "role-2": "meta:created_at"}
    second = client.post(url(project), {**roles, "action": "preview"})
    page = html.unescape(second.content.decode())
    assert "line 3: " not in page and "unknown label 'NOPE'" in page  # the row's own error
    refused = client.post(url(project), {**roles, "action": "import"})
    assert refused.status_code == 400
    assert "line 3: column 'tags': unknown label 'NOPE'" in html.unescape(refused.content.decode())
    done = client.post(url(project), {**roles, "on_error": "skip", "action": "import"}, follow=True)
    assert "Imported 1 examples (0 duplicates skipped, 1 bad rows left out)." in done.content.decode()
    example = Example.objects.get(project=project)
    assert example.text == "flood downtown" and example.annotations.get().labels == ["HS"]
    assert not (tmp_path / "preview" / token).exists()


def test_an_unknown_token_sends_the_admin_back(project, owner):
    response = client_for(owner).post(url(project), {"token": "abc123", "action": "import"}, follow=True)
    assert "no longer kept" in response.content.decode()


def test_only_admins_preview(project, annotator_user):
    response = client_for(annotator_user).post(url(project), {"file": SimpleUploadedFile("t.csv", CSV), "format": "csv"})
    assert response.status_code == 403
