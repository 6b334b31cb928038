"""JSONL import: Vigia's own span shape and IDRISI's location mentions."""
from __future__ import annotations

import json

import pytest

from annotator.importers import ImportFailed, import_file
from annotator.models import Example
from tests.annotator.importers.conftest import IDRISI_HARVEY, write

pytestmark = pytest.mark.django_db


def test_it_imports_idrisi_mentions_as_spans_with_dates_and_authors(idrisi_project, head):
    path = head(IDRISI_HARVEY, 300)
    result = import_file(idrisi_project, path, "jsonl")
    assert result.imported + result.duplicates == 300
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    checked = 0
    for record in records[:80]:
        example = Example.objects.filter(project=idrisi_project, external_id=record["tweet_id"]).first()
        if example is None:
            continue  # a duplicate of an earlier tweet
        checked += 1
        assert example.meta["author"] == record["user_id"]
        assert example.meta["humAID_class"] == record["humAID_class"]
        assert example.meta["created_at"].endswith("+00:00")
        spans = example.annotations.get().spans
        expected = sorted(
            (m["start_offset"], m["end_offset"], m["type"]) for m in record["location_mentions"]
        )
        assert [(s["start"], s["end"], s["label"]) for s in spans] == expected
    assert checked > 60


def test_it_parses_the_x_api_v1_date_of_idrisi(idrisi_project, tmp_path):
    line = {"tweet_id": "1", "text": "Flood in Houston", "created_at": "Sun Nov 11 05:54:01 +0000 2018",
            "location_mentions": [{"text": "Houston", "type": "City/town", "start_offset": 9, "end_offset": 16}]}
    import_file(idrisi_project, write(tmp_path, "a.jsonl", json.dumps(line) + "\n"), "jsonl")
    example = Example.objects.get(project=idrisi_project)
    assert example.meta["created_at"] == "2018-11-11T05:54:01+00:00"
    assert example.annotations.get().spans == [{"start": 9, "end": 16, "label": "City/town"}]


def test_it_realigns_a_mention_whose_offsets_miss_its_own_text(idrisi_project, sample_datasets, tmp_path):
    # hurricane_harvey train line 291: the flag emoji is counted in UTF-16 units (135-139 of 137).
    line = (sample_datasets / IDRISI_HARVEY).read_text(encoding="utf-8").splitlines()[290] + "\n"
    import_file(idrisi_project, write(tmp_path, "flag.jsonl", line), "jsonl")
    example = Example.objects.get(project=idrisi_project)
    span = example.annotations.get().spans[-1]
    assert example.text[span["start"]:span["end"]] == "\U0001f1fa\U0001f1f8"


def test_it_rejects_spans_outside_the_text_or_with_unknown_labels(wnut_project, tmp_path):
    lines = [
        {"text": "Paris is nice", "spans": [{"start": 0, "end": 5, "label": "location"}]},
        {"text": "short", "spans": [{"start": 2, "end": 9, "label": "location"}]},
        {"text": "Bob here", "spans": [{"start": 0, "end": 3, "label": "villain"}]},
        {"text": "x", "spans": [{"start": 1, "end": 1, "label": "person"}]},
    ]
    path = write(tmp_path, "s.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    with pytest.raises(ImportFailed) as caught:
        import_file(wnut_project, path, "jsonl")
    errors = caught.value.errors
    assert [e["line"] for e in errors] == [2, 3, 4]
    assert "outside the text" in errors[0]["message"]
    assert "unknown label 'villain'" in errors[1]["message"] and "person" in errors[1]["message"]
    assert not Example.objects.filter(project=wnut_project).exists()


def test_it_rejects_overlapping_spans_unless_the_project_allows_them(wnut_project, tmp_path):
    line = {"text": "New York City", "spans": [
        {"start": 0, "end": 8, "label": "location"}, {"start": 4, "end": 13, "label": "location"}]}
    path = write(tmp_path, "o.jsonl", json.dumps(line) + "\n")
    with pytest.raises(ImportFailed, match="overlap"):
        import_file(wnut_project, path, "jsonl")
    wnut_project.allow_overlapping_spans = True
    wnut_project.save()
    assert import_file(wnut_project, path, "jsonl").imported == 1


def test_it_reports_invalid_json_lines(project, tmp_path):
    path = write(tmp_path, "bad.jsonl", '{"text": "ok"}\n{"text": "broken\n[1, 2]\n')
    with pytest.raises(ImportFailed) as caught:
        import_file(project, path, "jsonl")
    assert [e["line"] for e in caught.value.errors] == [2, 3]
    assert "invalid JSON" in caught.value.errors[0]["message"]
    assert "expected a JSON object" in caught.value.errors[1]["message"]
