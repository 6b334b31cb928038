"""`manage.py import_examples` and `manage.py export_examples`."""
from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from annotator.models import Example
from tests.annotator.importers.conftest import TRUMP, write

pytestmark = pytest.mark.django_db


def test_import_examples_prints_counts_and_finds_the_project_by_name(project, tmp_path, capsys):
    path = write(tmp_path, "a.csv", "text,labels\none,HS\ntwo,TR\none,AG\n")
    call_command("import_examples", project.name, str(path), "--format", "csv")
    assert "imported 2, duplicates 1" in capsys.readouterr().out
    assert Example.objects.filter(project=project).count() == 2


def test_import_examples_takes_a_json_mapping(project, tmp_path, capsys):
    path = write(tmp_path, "b.csv", "words,tags\nhello,HS|AG\n")
    call_command("import_examples", str(project.pk), str(path), "--format", "csv",
                 "--mapping", json.dumps({"text": "words", "labels": "tags"}))
    assert Example.objects.get(project=project).annotations.get().labels == ["HS", "AG"]


def test_import_examples_lists_errors_with_line_numbers_and_fails(project, sample_datasets, capsys):
    with pytest.raises(CommandError, match="nothing imported: 1 error"):
        call_command("import_examples", str(project.pk), str(sample_datasets / TRUMP), "--format", "csv")
    assert "trump_tweets.csv:62:" in capsys.readouterr().err
    assert not Example.objects.filter(project=project).exists()


def test_import_examples_rejects_unknown_projects_and_missing_files(project, tmp_path):
    with pytest.raises(CommandError, match="no project with id or name 'nope'"):
        call_command("import_examples", "nope", "x.csv", "--format", "csv")
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_examples", str(project.pk), str(tmp_path / "missing.csv"), "--format", "csv")


def test_export_examples_writes_to_stdout_or_a_file(project, tmp_path, capsys):
    call_command("import_examples", str(project.pk), str(write(tmp_path, "c.csv", "text,labels\nhi,HS\n")), "--format", "csv")
    capsys.readouterr()
    call_command("export_examples", str(project.pk), "--format", "jsonl")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["labels"] == ["HS"]
    target = tmp_path / "out.csv"
    call_command("export_examples", str(project.pk), "--format", "csv", "--output", str(target))
    assert target.read_text().splitlines()[1].startswith(',hi,"[""HS""]"')
    with pytest.raises(CommandError, match="spans project"):
        call_command("export_examples", str(project.pk), "--format", "conll")


def test_import_examples_skips_bad_rows_with_on_error_skip(project, tmp_path, capsys):
    path = write(tmp_path, "m.csv", "text,labels\nflood,HS\n,TR\nquake,AG\n")
    call_command("import_examples", str(project.pk), str(path), "--format", "csv", "--on-error", "skip")
    out = capsys.readouterr()
    assert "imported 2, duplicates 0, skipped 1 bad record(s)" in out.out
    assert f"{path}:3: column 'text': the text is empty" in out.err
    assert Example.objects.filter(project=project).count() == 2
