"""CSV import on CrisisLex samples and a trump-layout sample (tests/fixtures/datasets)."""
from __future__ import annotations

import csv

import pytest

from annotator.importers import ImportFailed, import_file
from annotator.models import Annotation, Example
from annotator.normalize import content_hash, normalize
from tests.annotator.importers.conftest import T6_BOSTON, T26_YOLANDA, TRUMP, write
from tests.conftest import make_project

pytestmark = pytest.mark.django_db


def test_it_imports_crisislex_t6_with_quoted_ids_and_binary_labels(binary_project, head):
    path = head(T6_BOSTON, 201)
    result = import_file(binary_project, path, "csv")
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[1:]
    assert result.imported + result.duplicates == 200
    assert Example.objects.filter(project=binary_project).count() == result.imported
    first_id, first_text, first_label = rows[0]
    example = Example.objects.get(project=binary_project, external_id=first_id.strip("'"))
    assert example.text == first_text  # raw text kept as is
    assert example.normalized_text == normalize(first_text, "strip")
    assert example.content_hash == content_hash(example.normalized_text)
    ann = example.annotations.get()
    assert ann.source == "import" and ann.user is None
    assert ann.labels == (["on-topic"] if first_label == "on-topic" else [])
    positives = Annotation.objects.filter(example__project=binary_project, labels=["on-topic"]).count()
    assert 0 < positives < result.imported


def test_it_trims_crisislex_t26_headers_and_keeps_other_columns_as_meta(t26_project, head):
    path = head(T26_YOLANDA, 151)
    result = import_file(t26_project, path, "csv", mapping={"labels": "Informativeness"})
    assert result.imported > 100
    example = Example.objects.filter(project=t26_project).first()
    assert example.external_id == "397748184581025793"
    assert example.meta == {"Information Source": "Outsiders", "Information Type": "Sympathy and support"}
    assert example.annotations.get().labels == ["Related - but not informative"]


def test_it_reports_the_broken_trump_row_by_line_number_and_stores_nothing(owner, sample_datasets):
    project = make_project(owner, "binary", ("viral",))
    with pytest.raises(ImportFailed) as caught:
        import_file(project, sample_datasets / TRUMP, "csv")
    assert caught.value.errors[0]["line"] == 62  # the sample ends like the real file (line 14517)
    assert "quote" in caught.value.errors[0]["message"]
    assert len(caught.value.errors) == 1
    assert not Example.objects.filter(project=project).exists()


def test_it_maps_trump_dates_and_retweets_into_meta(owner, tmp_path, sample_datasets):
    with open(sample_datasets / TRUMP, encoding="utf-8", newline="") as f:
        lines = f.readlines()[:40]
    path = write(tmp_path, "trump.csv", "".join(lines))
    project = make_project(owner, "binary", ("viral",))
    import_file(project, path, "csv")
    example = Example.objects.get(project=project, external_id="1011038477889175553")
    assert example.meta["created_at"] == "2018-06-24T19:08:51+00:00"
    assert example.meta["retweet_count"] == 2951
    assert example.meta["favorite_count"] == 9976
    assert not example.annotations.exists()  # no label column: unlabelled


def test_it_reports_the_physical_line_of_rows_after_multiline_records(binary_project, tmp_path):
    path = write(
        tmp_path, "multi.csv",
        'text,label\n"first\nspans two lines",on-topic\nsecond,on-topic\n,on-topic\n',
    )
    with pytest.raises(ImportFailed) as caught:
        import_file(binary_project, path, "csv")
    assert caught.value.errors == [{"line": 5, "message": "column 'text': the text is empty"}]
