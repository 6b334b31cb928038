"""Issue 11: strict quoting, on_error=skip, undecodable bytes at their line, capped JSON lines,
NUL and surrogates refused, duplicate external ids reported."""
from __future__ import annotations

import json

import pytest

from annotator.importers import ImportFailed, import_file, readers
from annotator.importers import lines as lines_module
from annotator.models import Annotation, Example
from tests.annotator.importers.conftest import write
from tests.conftest import make_project

pytestmark = pytest.mark.django_db

# The case: the stray quote on line 5 used to merge rows 4 and 5 into one example
# (`strict=False`, and the column count lined up), losing row 5's text.
STRAY = (
    "text,label\n"
    "first tweet,on-topic\n"
    "second tweet,off-topic\n"
    "third tweet,on-topic\n"
    '"fourth tweet has a stray quote,on-topic\n'
    'fifth tweet " quoted",off-topic\n'
    "sixth tweet,on-topic\n"
)


@pytest.fixture
def binary(owner):
    return make_project(owner, "binary", ("on-topic",))


def texts(project) -> list[str]:
    return list(Example.objects.filter(project=project).order_by("id").values_list("text", flat=True))


def test_a_stray_quote_is_an_error_naming_its_line_and_nothing_is_stored(binary, tmp_path):
    with pytest.raises(ImportFailed) as caught:
        import_file(binary, write(tmp_path, "stray.csv", STRAY), "csv")
    [error] = caught.value.errors
    assert error["line"] == 5
    assert "stray quote" in error["message"] and "lines 5-6" in error["message"]
    assert texts(binary) == []


def test_skip_imports_the_rows_around_a_stray_quote_and_lists_it(binary, tmp_path):
    result = import_file(binary, write(tmp_path, "stray.csv", STRAY), "csv", on_error="skip")
    assert (result.imported, result.duplicates, result.skipped) == (4, 0, 1)
    assert [e["line"] for e in result.errors] == [5]
    assert texts(binary) == ["first tweet", "second tweet", "third tweet", "sixth tweet"]


def test_an_unclosed_quote_at_the_end_of_the_file_names_the_line_it_opens(binary, tmp_path):
    body = 'text,label\nfine,on-topic\n"never closed,on-topic\nmore,on-topic\n'
    with pytest.raises(ImportFailed) as caught:
        import_file(binary, write(tmp_path, "open.csv", body), "csv")
    assert caught.value.errors[0]["line"] == 3
    assert "never closed" in caught.value.errors[0]["message"]


def test_a_properly_quoted_multiline_field_is_still_one_row(binary, tmp_path):
    body = 'text,label\n"two\nlines, one ""quoted"" word",on-topic\nnext,off-topic\n'
    result = import_file(binary, write(tmp_path, "ok.csv", body), "csv")
    assert result.imported == 2
    assert texts(binary)[0] == 'two\nlines, one "quoted" word'


def test_skip_keeps_the_valid_rows_and_counts_the_bad_ones(project, tmp_path):
    # TweetEval's hate train has empty tweets; skip imports the rest.
    body = "text,labels\nflood,HS\n,TR\nfire,NOPE\nquake,AG\nflood,HS\n"
    result = import_file(project, write(tmp_path, "mixed.csv", body), "csv", on_error="skip")
    assert result.as_dict() == {
        "imported": 2,
        "duplicates": 1,
        "skipped": 2,
        "errors": [
            {"line": 3, "message": "column 'text': the text is empty"},
            {"line": 4, "message": "column 'labels': unknown label 'NOPE'; valid labels: HS, TR, AG"},
        ],
    }
    assert texts(project) == ["flood", "quake"]
    assert Annotation.objects.filter(example__project=project).count() == 2


def test_skip_still_fails_the_whole_file_on_a_bad_header(project, tmp_path):
    body = "words,labels\nflood,HS\n"
    with pytest.raises(ImportFailed) as caught:
        import_file(project, write(tmp_path, "h.csv", body), "csv", mapping={"text": "tweet"}, on_error="skip")
    assert "is not in the header" in caught.value.errors[0]["message"]
    assert texts(project) == []


def test_on_error_must_be_stop_or_skip(project, tmp_path):
    with pytest.raises(ImportFailed) as caught:
        import_file(project, write(tmp_path, "a.csv", "text\nx\n"), "csv", on_error="ignore")
    assert "on_error must be one of stop, skip" in caught.value.errors[0]["message"]


def test_the_first_undecodable_byte_is_reported_at_its_line_with_an_encoding_guess(project, tmp_path):
    # 300 clean lines (more than one 8 KiB decode chunk), then cp1252 text on line 302.
    body = "text\n" + "".join(f"clean tweet number {i} with some padding text\n" for i in range(300))
    body += "caf\u00e9 in cp1252\n"
    path = tmp_path / "cp1252.csv"
    path.write_bytes(body.encode("cp1252"))
    with pytest.raises(ImportFailed) as caught:
        import_file(project, path, "csv", on_error="skip")  # fatal even when skipping
    [error] = caught.value.errors
    assert error["line"] == 302
    assert "byte 0xE9 at column 4 is not UTF-8" in error["message"]
    assert "Windows-1252 (cp1252)" in error["message"]
    assert texts(project) == []


@pytest.mark.parametrize("fmt", ["jsonl", "conll", "x-json"])
def test_undecodable_bytes_name_their_line_in_every_line_format(project, tmp_path, fmt):
    good = {
        "jsonl": '{"text": "fine"}\n',
        "conll": "fine\tO\n\n",
        "x-json": '{"id": "1", "text": "fine"}\n',
    }[fmt]
    bad = {"jsonl": '{"text": "caf\xe9"}\n', "conll": "caf\xe9\tO\n", "x-json": '{"id": "2", "text": "caf\xe9"}\n'}[fmt]
    path = tmp_path / f"bad.{fmt}"
    path.write_bytes(good.encode() + good.encode() + bad.encode("latin-1"))
    wnut = make_project(project.created_by, "spans", ("person",)) if fmt == "conll" else project
    with pytest.raises(ImportFailed) as caught:
        import_file(wnut, path, fmt)
    line = 5 if fmt == "conll" else 3
    assert caught.value.errors[0]["line"] == line
    assert "is not UTF-8" in caught.value.errors[0]["message"]


def test_a_jsonl_line_over_the_field_limit_is_an_error_and_the_next_lines_go_on(project, tmp_path, monkeypatch):
    monkeypatch.setattr(lines_module, "FIELD_LIMIT", 1000)
    body = '{"text": "short"}\n' + json.dumps({"text": "x" * 5000}) + '\n{"text": "after"}\n'
    with pytest.raises(ImportFailed) as caught:
        import_file(project, write(tmp_path, "big.jsonl", body), "jsonl")
    assert caught.value.errors == [{"line": 2, "message": "the line is longer than 1000 characters"}]
    result = import_file(project, write(tmp_path, "big.jsonl", body), "jsonl", on_error="skip")
    assert (result.imported, result.skipped) == (2, 1)
    assert texts(project) == ["short", "after"]


def test_readers_use_one_limit_for_csv_fields_and_json_lines():
    assert lines_module.FIELD_LIMIT == 10 * 1024 * 1024
    assert readers.FIELD_LIMIT == lines_module.FIELD_LIMIT


@pytest.mark.parametrize(
    ("body", "fmt", "message"),
    [
        ("text\nbad\x00text\n", "csv", "column 'text': the text contains a NUL character (U+0000) at character 4"),
        ('{"text": "bad\\u0000text"}\n', "jsonl", "the text contains a NUL character (U+0000) at character 4"),
        ('{"text": "lone \\ud800 surrogate"}\n', "jsonl", "the text contains a lone surrogate (U+D800)"),
        ('{"text": "fine", "author": "a\\u0000b"}\n', "jsonl", "meta.author: contains a NUL character (U+0000) at character 2"),
        ('{"text": "fine", "id": "x\\u0000"}\n', "jsonl", "column 'id': the id contains a NUL character"),
        ("text,note\nfine,a\x00b\n", "csv", "meta.note: contains a NUL character"),
    ],
)
def test_nul_and_lone_surrogates_are_row_errors_not_database_errors(project, tmp_path, body, fmt, message):
    path = tmp_path / f"x.{fmt}"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        import_file(project, path, fmt)
    assert caught.value.errors[0]["line"] == (2 if fmt == "csv" else 1)
    assert message in caught.value.errors[0]["message"]
    assert texts(project) == []


def test_two_texts_under_one_external_id_are_an_error_naming_both_lines(project, tmp_path):
    body = "id,text\n7,first text\n8,other\n7,a different text\n7,first text\n"
    with pytest.raises(ImportFailed) as caught:
        import_file(project, write(tmp_path, "ids.csv", body), "csv")
    assert caught.value.errors == [
        {
            "line": 4,
            "message": "external id '7' is already used on line 2 by a different text (ids must be "
            "unique within a file)",
        }
    ]
    # The same text under the same id (line 5) is an ordinary duplicate.
    result = import_file(project, write(tmp_path, "ids.csv", body), "csv", on_error="skip")
    assert (result.imported, result.duplicates, result.skipped) == (2, 1, 1)
