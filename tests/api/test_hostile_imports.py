"""Issue 20: an empty file is refused the same way in every format, and the import preview never
answers 500 (a lone surrogate or NaN in a JSON line, a nesting bomb, a count of 1e400)."""
from __future__ import annotations

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotator.importers.readers import EMPTY_FILE
from annotator.models import Example
from tests.web.helpers import client_for

pytestmark = pytest.mark.django_db

FORMATS = ("csv", "tsv", "jsonl", "conll", "x-json")
EMPTY_BODIES = {"nothing": b"", "blank lines": b"\n  \n\t\n"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_file_is_refused_the_same_way_in_every_format(owner_api, project, fmt):
    wrong = []
    for body, content in EMPTY_BODIES.items():
        for on_error in ("stop", "skip"):
            upload = SimpleUploadedFile(f"empty.{fmt}", content)
            response = owner_api.post(f"/api/v1/projects/{project.pk}/import",
                                      {"file": upload, "format": fmt, "on_error": on_error}, format="multipart")
            if response.status_code != 400 or response.json().get("errors") != [{"line": 1, "message": EMPTY_FILE}]:
                wrong.append((body, on_error, response.status_code, response.content[:200]))
    assert wrong == []
    assert not Example.objects.filter(project=project).exists()


HOSTILE_JSONL = {
    "lone surrogate in a value": b'{"text": "flood \\ud800 here"}\n{"text": "fine"}\n',
    "lone surrogate in a key": b'{"text": "flood", "\\udc80key": 1}\n',
    "NUL in a value": b'{"text": "a\\u0000b"}\n',
    "NaN": b'{"text": "flood", "retweet_count": NaN}\n',
    "1e400": b'{"text": "flood", "retweet_count": 1e400}\n',
    "a huge integer": b'{"text": "flood", "retweet_count": 123456789012345678901234567890}\n',
    "nested 1000 deep": b'{"text": "flood", "meta": ' + b"[" * 1000 + b"]" * 1000 + b"}\n",
    "created_at 1e300": b'{"text": "flood", "created_at": 1e300}\n',
}


@pytest.mark.parametrize("case", list(HOSTILE_JSONL), ids=list(HOSTILE_JSONL))
def test_the_preview_never_answers_500(project, owner, settings, tmp_path, case):
    settings.VIGIA_UPLOAD_DIR = tmp_path
    client = client_for(owner)
    upload = SimpleUploadedFile("hostile.jsonl", HOSTILE_JSONL[case])
    response = client.post(reverse("project-import-preview", args=[project.pk]),
                           {"file": upload, "format": "jsonl"})
    assert response.status_code in (200, 400), (case, response.status_code)
    page = html.unescape(response.content.decode())
    assert 'id="preview-table"' in page or 'id="import-errors"' in page
    assert not Example.objects.filter(project=project).exists()


@pytest.mark.parametrize("case", list(HOSTILE_JSONL), ids=list(HOSTILE_JSONL))
def test_the_rest_import_refuses_hostile_lines_naming_the_line(owner_api, project, case):
    upload = SimpleUploadedFile("hostile.jsonl", HOSTILE_JSONL[case])
    response = owner_api.post(f"/api/v1/projects/{project.pk}/import",
                              {"file": upload, "format": "jsonl"}, format="multipart")
    assert response.status_code == 400, (case, response.status_code, response.content[:300])
    assert response.json()["errors"][0]["line"] == 1
    assert not Example.objects.filter(project=project).exists()


def test_a_csv_count_of_1e400_is_a_row_error_not_an_overflow(owner_api, project):
    body = b"text,retweet_count\nflood,1e400\nfire,nan\n"
    response = owner_api.post(f"/api/v1/projects/{project.pk}/import",
                              {"file": SimpleUploadedFile("c.csv", body), "format": "csv"}, format="multipart")
    assert response.status_code == 400, response.content[:300]
    assert [e["line"] for e in response.json()["errors"]] == [2, 3]
