"""The import preview (first rows parsed, one role per column) and `start_import`, the one use
case behind the import page, the REST import and the CLI (issue 13)."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from annotator.importers import ImportFailed
from annotator.importers.preview import mapping_from_roles, preview_import
from annotator.models import Example, ImportJob
from annotator.services.imports import start_import
from tests.annotator.importers.conftest import write

pytestmark = pytest.mark.django_db

CSV = "Tweet,Date,HS,TR,AG,tweet_id\nflood in town,2020-01-02,1,0,0,'7'\nall calm,2020-01-03,0,0,0,'8'\n"


def test_the_preview_shows_the_detected_role_of_each_column_and_the_parsed_rows(project, tmp_path):
    preview = preview_import(project, write(tmp_path, "p.csv", CSV), "csv")
    assert preview.columns == ["Tweet", "Date", "HS", "TR", "AG", "tweet_id"]
    assert preview.roles == {"Tweet": "text", "Date": "meta:created_at", "HS": "label:HS", "TR": "label:TR",
                             "AG": "label:AG", "tweet_id": "id"}
    assert [(r.line, r.text, r.labels) for r in preview.rows] == [(2, "flood in town", ["HS"]), (3, "all calm", [])]
    assert preview.rows[0].cells == ["flood in town", "2020-01-02", "1", "0", "0", "'7'"]
    assert not Example.objects.exists()  # a preview stores nothing


def test_the_roles_turn_back_into_the_same_mapping(project, tmp_path):
    path = write(tmp_path, "p.csv", CSV)
    preview = preview_import(project, path, "csv")
    mapping = mapping_from_roles(preview.columns, preview.roles)
    assert mapping == {"text": "Tweet", "id": "tweet_id", "meta": {"created_at": "Date"}, "ignore": [],
                       "labels": {"HS": "HS", "TR": "TR", "AG": "AG"}}
    again = preview_import(project, path, "csv", mapping)
    assert again.roles == preview.roles and [r.labels for r in again.rows] == [["HS"], []]


def test_changing_a_role_changes_how_rows_are_parsed(project, tmp_path):
    path = write(tmp_path, "p.csv", CSV)
    preview = preview_import(project, path, "csv")
    roles = {**preview.roles, "TR": "ignore", "HS": "meta", "tweet_id": "meta"}
    mapping = mapping_from_roles(preview.columns, roles)
    changed = preview_import(project, path, "csv", mapping)
    assert changed.roles == roles
    result = start_import(project, path, "csv", mapping=mapping).result
    assert result.imported == 2
    example = Example.objects.get(text="flood in town")
    assert example.external_id == "" and example.meta["HS"] == "1" and "TR" not in example.meta
    assert example.meta["tweet_id"] == "'7'"


def test_a_role_given_twice_is_refused_naming_both_columns(project):
    with pytest.raises(ImportFailed, match="columns 'a' and 'b' are both mapped to text"):
        mapping_from_roles(["a", "b"], {"a": "text", "b": "text"})
    with pytest.raises(ImportFailed, match="either one labels column or 0/1 label columns"):
        mapping_from_roles(["a", "b", "c"], {"a": "text", "b": "labels", "c": "label:HS"})


def test_a_file_without_a_text_column_previews_with_its_error(project, tmp_path):
    preview = preview_import(project, write(tmp_path, "n.csv", "words,x\nhello,1\n"), "csv")
    assert preview.columns == ["words", "x"] and "no text column" in preview.errors[0]["message"]
    assert preview.rows[0].cells == ["hello", "1"]


def test_bad_rows_carry_their_error_in_the_preview(project, tmp_path):
    preview = preview_import(project, write(tmp_path, "b.csv", "text,labels\nok,HS\n,TR\nfine,NOPE\n"), "csv")
    assert [(r.line, r.error) for r in preview.rows] == [
        (2, ""), (3, "column 'text': the text is empty"),
        (4, "column 'labels': unknown label 'NOPE'; valid labels: HS, TR, AG")]


def test_a_mapped_column_missing_from_the_header_is_refused_before_a_job_is_queued(project, settings, tmp_path):
    settings.VIGIA_IMPORT_ASYNC_BYTES = 10
    settings.VIGIA_UPLOAD_DIR = tmp_path
    upload = SimpleUploadedFile("big.csv", CSV.encode())
    with pytest.raises(ImportFailed, match="text column 'body' is not in the header"):
        start_import(project, upload, "csv", mapping={"text": "body"})
    assert not ImportJob.objects.exists()
    outcome = start_import(project, SimpleUploadedFile("big.csv", CSV.encode()), "csv", mapping={"text": "Tweet"})
    assert outcome.result is None and outcome.job.original_name == "big.csv"


def test_the_request_fields_are_named(project):
    for kwargs, field in [({"fmt": ""}, "format"), ({"fmt": "xlsx"}, "format"), ({"on_error": "maybe"}, "on_error")]:
        args = {"fmt": "csv", **kwargs}
        with pytest.raises(ImportFailed) as caught:
            start_import(project, io.BytesIO(b"text\nx\n"), args.pop("fmt"), **args)
        assert caught.value.errors[0]["field"] == field


def test_the_cli_refuses_a_bad_mapping_like_rest(project, tmp_path):
    path = write(tmp_path, "c.csv", CSV)
    with pytest.raises(CommandError, match="--mapping: not valid JSON"):
        call_command("import_examples", str(project.pk), str(path), "--format", "csv", "--mapping", "{oops")
    with pytest.raises(CommandError, match="nothing imported: 1 error"):
        call_command("import_examples", str(project.pk), str(path), "--format", "csv", "--mapping", '{"text": "body"}')
