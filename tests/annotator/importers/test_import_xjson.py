"""X API v2 JSON: tweet objects per line, response pages per line, or one response document."""
from __future__ import annotations

import json

import pytest

from annotator.importers import import_file
from annotator.models import Example
from tests.annotator.importers.conftest import write
from tests.conftest import make_project

pytestmark = pytest.mark.django_db

PAGE = {
    "data": [
        {"id": "1700000000000000001", "text": "Flooding on Main St right now", "author_id": "42",
         "created_at": "2023-11-13T10:00:00.000Z", "lang": "en",
         "public_metrics": {"retweet_count": 7, "reply_count": 1, "like_count": 20, "quote_count": 0}},
        {"id": "1700000000000000002", "text": "truncated…", "author_id": "43", "lang": "es",
         "note_tweet": {"text": "La versión larga del tuit completo"},
         "created_at": "2023-11-13T11:30:00.000Z", "public_metrics": {"retweet_count": 0}},
    ],
    "includes": {"users": [{"id": "42", "username": "floodwatch", "name": "Flood Watch"}]},
    "meta": {"result_count": 2},
}


@pytest.fixture
def xproject(owner):
    return make_project(owner, "binary", ("on-topic",))


def _check(project):
    first = Example.objects.get(project=project, external_id="1700000000000000001")
    assert first.meta["created_at"] == "2023-11-13T10:00:00+00:00"
    assert first.meta["lang"] == "en"
    assert first.meta["retweet_count"] == 7
    assert first.meta["author"] == "floodwatch"
    second = Example.objects.get(project=project, external_id="1700000000000000002")
    assert second.text == "La versión larga del tuit completo"
    assert second.meta["author"] == "43"  # no user object: the id is kept


def test_it_reads_a_pretty_printed_response_document(xproject, tmp_path):
    result = import_file(xproject, write(tmp_path, "page.json", json.dumps(PAGE, indent=2)), "x-json")
    assert result.imported == 2
    _check(xproject)


def test_it_reads_one_response_page_per_line(xproject, tmp_path):
    content = json.dumps(PAGE) + "\n" + json.dumps({"data": [{"id": "3", "text": "third"}]}) + "\n"
    result = import_file(xproject, write(tmp_path, "pages.jsonl", content), "x-json")
    assert result.imported == 3
    _check(xproject)


def test_it_reads_one_tweet_object_per_line(xproject, tmp_path):
    content = "\n".join(json.dumps(t) for t in PAGE["data"]) + "\n"
    assert import_file(xproject, write(tmp_path, "tweets.jsonl", content), "x-json").imported == 2
    assert Example.objects.get(project=xproject, external_id="1700000000000000001").meta["author"] == "42"
