"""Export content: every annotation with its user and source; the primary labels."""
from __future__ import annotations

import csv
import io
import json

import pytest

from annotator.exporters import ExportError, export_project, iter_export
from annotator.importers import import_file
from annotator.models import Annotation, Example
from tests.annotator.importers.conftest import write

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(project, annotator_user, tmp_path):
    path = write(tmp_path, "a.csv", "id,text,labels,lang\n1,first tweet,HS,en\n2,second tweet,,es\n3,third,[],en\n")
    import_file(project, path, "csv")
    first = Example.objects.get(project=project, external_id="1")
    Annotation.objects.create(example=first, user=annotator_user, labels=["TR", "AG"], source="human")
    return project


def test_jsonl_export_lists_every_annotation_and_prefers_the_human_one(labelled):
    out = io.StringIO()
    export_project(labelled, "jsonl", out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["id"] for r in records] == ["1", "2", "3"]
    first, second, third = records
    assert first["text"] == "first tweet" and first["meta"] == {"lang": "en"}
    assert first["labels"] == ["TR", "AG"]
    assert [(a["user"], a["source"], a["labels"]) for a in first["annotations"]] == [
        (None, "import", ["HS"]), ("annotator", "human", ["TR", "AG"])]
    assert "labels" not in second and second["annotations"] == []  # unlabelled stays unlabelled
    assert third["labels"] == []


def test_csv_export_writes_json_cells_that_distinguish_unlabelled_from_negative(labelled):
    text = "".join(iter_export(labelled, "csv"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["id", "text", "labels", "meta", "annotations"]
    assert [r["labels"] for r in rows] == ['["TR","AG"]', "", "[]"]
    assert json.loads(rows[1]["meta"]) == {"lang": "es"}


def test_conll_export_needs_a_spans_project_and_writes_bio(labelled, wnut_project, tmp_path):
    with pytest.raises(ExportError, match="spans project"):
        iter_export(labelled, "conll")
    with pytest.raises(ExportError, match="unknown export format 'xml'"):
        iter_export(labelled, "xml")
    line = '{"id": "9", "text": "I love New  York", "spans": [{"start": 7, "end": 16, "label": "location"}]}\n'
    import_file(wnut_project, write(tmp_path, "s.jsonl", line), "jsonl")
    out = io.StringIO()
    export_project(wnut_project, "conll", out)
    assert out.getvalue() == "# id = 9\nI\tO\nlove\tO\nNew\tB-location\nYork\tI-location\n\n"
