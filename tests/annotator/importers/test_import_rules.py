"""All-or-nothing, duplicates, error lists, mapping and label rules."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotator.importers import ImportFailed, import_file
from annotator.models import Annotation, Example
from annotator.normalize import content_hash, normalize
from tests.annotator.importers.conftest import write
from tests.conftest import make_project

pytestmark = pytest.mark.django_db


def test_it_skips_duplicates_in_the_file_and_already_stored(project, tmp_path):
    first = write(tmp_path, "a.csv", "text,labels\nFlood downtown,HS\nRT @bob: flood  DOWNTOWN http://t.co/x,TR\nfire,AG\n")
    assert import_file(project, first, "csv").__dict__ == {"imported": 2, "duplicates": 1, "skipped": 0, "errors": []}
    flood = Example.objects.get(project=project, text="Flood downtown")
    assert flood.annotations.get().labels == ["HS"]  # the first occurrence wins
    second = write(tmp_path, "b.csv", "text,labels\nfire,HS\nsmoke,TR|AG\n")
    assert import_file(project, second, "csv").__dict__ == {"imported": 1, "duplicates": 1, "skipped": 0, "errors": []}
    assert Example.objects.get(project=project, text="fire").annotations.get().labels == ["AG"]
    assert Example.objects.get(project=project, text="smoke").annotations.get().labels == ["TR", "AG"]
    assert list(Example.objects.filter(project=project).values_list("text", flat=True)) == [
        "Flood downtown", "fire", "smoke"]  # ids follow the file order


def test_it_stores_nothing_when_one_row_is_bad(project, tmp_path):
    rows = "".join(f"tweet number {i},HS\n" for i in range(1200))
    path = write(tmp_path, "c.csv", "text,labels\n" + rows + "bad one,XX\n")
    with pytest.raises(ImportFailed) as caught:
        import_file(project, path, "csv")
    assert caught.value.errors == [{
        "line": 1202,
        "message": "column 'labels': unknown label 'XX'; valid labels: HS, TR, AG",
    }]
    assert not Example.objects.filter(project=project).exists()
    assert not Annotation.objects.exists()


def test_it_lists_at_most_one_hundred_errors(project, tmp_path):
    path = write(tmp_path, "d.csv", "text,labels\n" + ",HS\n" * 150)
    with pytest.raises(ImportFailed) as caught:
        import_file(project, path, "csv")
    assert len(caught.value.errors) == 100 and caught.value.truncated
    assert caught.value.errors[0]["line"] == 2 and caught.value.errors[-1]["line"] == 101


def test_it_fills_normalized_text_hash_and_meta(project, tmp_path):
    path = write(tmp_path, "e.csv", "Tweet ID,Tweet Text,Date,Retweets,Lang,source\n'77',RT @a: Hi &amp; bye http://x.y,2018-01-02 03:04:05,\"1,204\",en,web\n")
    import_file(project, path, "csv")
    example = Example.objects.get(project=project)
    assert example.external_id == "77"
    assert example.normalized_text == normalize(example.text, "strip") == "Hi & bye"
    assert example.content_hash == content_hash("Hi & bye")
    assert example.meta == {"created_at": "2018-01-02T03:04:05+00:00", "retweet_count": 1204, "lang": "en", "source": "web"}
    assert not example.annotations.exists()


def test_it_hashes_the_raw_text_when_normalization_leaves_nothing(project, tmp_path):
    import_file(project, write(tmp_path, "f.csv", "text\nhttp://t.co/only\n@someone\n"), "csv")
    hashes = set(Example.objects.filter(project=project).values_list("content_hash", flat=True))
    assert hashes == {content_hash("http://t.co/only"), content_hash("@someone")}


def test_it_rejects_a_bad_date_or_count_naming_line_and_column(project, tmp_path):
    path = write(tmp_path, "g.csv", "text,created_at,retweet_count\na,yesterday,1\nb,2018-01-01,many\n")
    with pytest.raises(ImportFailed) as caught:
        import_file(project, path, "csv")
    assert [e["line"] for e in caught.value.errors] == [2, 3]
    assert "'created_at'" in caught.value.errors[0]["message"] and "yesterday" in caught.value.errors[0]["message"]
    assert "'retweet_count'" in caught.value.errors[1]["message"]


def test_it_uses_an_explicit_mapping_with_label_values_and_meta(owner, tmp_path):
    project = make_project(owner, "binary", ("relevant",))
    path = write(tmp_path, "h.csv", "body,ref,verdict,when,where\nquake hits,1,yes-rel,2019-05-01,Lima\ncat pic,2,no-rel,,\n")
    mapping = {
        "text": "body", "id": "ref", "labels": "verdict",
        "label_values": {"yes-rel": "relevant", "no-rel": None},
        "meta": {"created_at": "when", "geo": "where"}, "meta_defaults": {"event": "peru"},
    }
    assert import_file(project, path, "csv", mapping=mapping).imported == 2
    quake = Example.objects.get(project=project, external_id="1")
    assert quake.meta == {"event": "peru", "created_at": "2019-05-01T00:00:00+00:00", "geo": "Lima"}
    assert quake.annotations.get().labels == ["relevant"]
    assert Example.objects.get(project=project, external_id="2").annotations.get().labels == []
    bad = write(tmp_path, "i.csv", "body,ref,verdict\nx,3,maybe\n")
    with pytest.raises(ImportFailed, match="'maybe' is not in label_values"):
        import_file(project, bad, "csv", mapping=mapping | {"meta": {}})


def test_it_explains_a_mapping_that_does_not_fit(project, tmp_path):
    path = write(tmp_path, "j.csv", "words,other\nx,y\n")
    with pytest.raises(ImportFailed) as caught:
        import_file(project, path, "csv")
    assert caught.value.errors[0]["line"] == 1
    assert "no text column" in caught.value.errors[0]["message"] and "words" in caught.value.errors[0]["message"]
    with pytest.raises(ImportFailed, match="mapping: text column 'tweet' is not in the header"):
        import_file(project, path, "csv", mapping={"text": "tweet"})
    with pytest.raises(ImportFailed, match="mapping: colour"):
        import_file(project, path, "csv", mapping={"text": "body", "colour": "x"})
    with pytest.raises(ImportFailed, match="unknown format 'xml'"):
        import_file(project, path, "xml")


def test_it_checks_single_label_and_binary_value_rules(owner, tmp_path):
    single = make_project(owner, "singlelabel", ("a", "b"))
    with pytest.raises(ImportFailed, match="takes one label"):
        import_file(single, write(tmp_path, "k.csv", "text,label\nx,a|b\n"), "csv")
    binary = make_project(owner, "binary", ("on-topic",))
    import_file(binary, write(tmp_path, "l.csv", "text,label\none,On-Topic\ntwo,off-topic\nthree,1\nfour,\n"), "csv")
    got = {e.text: [a.labels for a in e.annotations.all()] for e in Example.objects.filter(project=binary)}
    assert got == {"one": [["on-topic"]], "two": [[]], "three": [["on-topic"]], "four": []}


def test_it_reads_django_uploads_and_reports_progress(project):
    body = "text,labels\n" + "".join(f"row {i},HS\n" for i in range(6000))
    upload = SimpleUploadedFile("up.csv", body.encode(), content_type="text/csv")
    seen = []
    result = import_file(project, upload, "csv", progress=lambda b, r: seen.append((b, r)))
    assert result.imported == 6000
    assert seen[-1] == (len(body.encode()), 6000)


def test_it_accepts_a_byte_order_mark_and_crlf_lines(project):
    data = "\ufefftext,labels\r\nfirst,HS\r\nsecond,TR\r\n".encode()
    import_file(project, io.BytesIO(data), "csv")
    assert list(Example.objects.filter(project=project).values_list("text", flat=True)) == ["first", "second"]


def test_it_reports_text_that_is_not_utf8(project):
    with pytest.raises(ImportFailed, match="not UTF-8"):
        import_file(project, io.BytesIO(b"text\nok\n\xff\xfe broken\n"), "csv")


def test_it_falls_back_to_a_plain_copy_when_postgres_refuses_freeze(project, tmp_path):
    from django.db import connection, transaction

    path = write(tmp_path, "m.csv", "text,labels\nalpha,HS\nbeta,TR\n")
    with transaction.atomic(), connection.cursor() as cursor:
        # An open cursor in the transaction makes PostgreSQL refuse COPY FREEZE.
        cursor.execute("DECLARE held_open CURSOR FOR SELECT 1")
        result = import_file(project, path, "csv")
        cursor.execute("CLOSE held_open")
    assert result.imported == 2
    assert Example.objects.get(project=project, text="beta").annotations.get().labels == ["TR"]


ID_CONFLICT = "external id {!r} is already used on line {} by a different text (ids must be unique within a file)"


def test_an_id_reused_for_another_text_is_refused_in_line_order_with_other_errors(project, tmp_path):
    # Line 3 is a bad label, lines 5 and 7 reuse id 7 (first on line 2) for other texts, line 6
    # reuses id 8 for its own text (an ordinary duplicate), line 8 is another bad label.
    body = ("id,text,labels\n7,first text,HS\n8,second,TR\n9,third,XX\n7,other text,HS\n"
            "8,second,TR\n7,a third text,AG\n10,fourth,YY\n")
    with pytest.raises(ImportFailed) as caught:
        import_file(project, write(tmp_path, "ids.csv", body), "csv")
    assert [(e["line"], e["message"]) for e in caught.value.errors] == [
        (4, "column 'labels': unknown label 'XX'; valid labels: HS, TR, AG"),
        (5, ID_CONFLICT.format("7", 2)),
        (7, ID_CONFLICT.format("7", 2)),
        (8, "column 'labels': unknown label 'YY'; valid labels: HS, TR, AG"),
    ]
    assert not caught.value.truncated
    assert not Example.objects.filter(project=project).exists()


def test_skip_leaves_out_the_reused_ids_and_keeps_the_first_rows_and_their_labels(project, tmp_path):
    body = ("id,text,labels\n7,first text,HS\n7,other text,AG\n8,other text,TR\n"
            "7,first text,AG\n9,,HS\n")
    result = import_file(project, write(tmp_path, "ids.csv", body), "csv", on_error="skip")
    # Line 3 is refused; "other text" under its own id 8 (line 4) is then a new example; line 5
    # repeats line 2 (a duplicate); line 6 has no text.
    assert (result.imported, result.duplicates, result.skipped) == (2, 1, 2)
    assert [e["line"] for e in result.errors] == [3, 6]
    assert result.errors[0]["message"] == ID_CONFLICT.format("7", 2)
    stored = {e.external_id: (e.text, e.annotations.get().labels) for e in Example.objects.filter(project=project)}
    assert stored == {"7": ("first text", ["HS"]), "8": ("other text", ["TR"])}


def test_more_id_conflicts_than_the_error_list_holds(project, tmp_path):
    body = "id,text\n" + "x,the first\n" + "".join(f"x,text {i}\n" for i in range(120))
    with pytest.raises(ImportFailed) as caught:
        import_file(project, write(tmp_path, "many.csv", body), "csv")
    assert len(caught.value.errors) == 100 and caught.value.truncated
    assert [e["line"] for e in caught.value.errors] == list(range(3, 103))
    result = import_file(project, write(tmp_path, "many.csv", body), "csv", on_error="skip")
    assert (result.imported, result.skipped, len(result.errors)) == (1, 120, 100)
    assert list(Example.objects.filter(project=project).values_list("text", flat=True)) == ["the first"]


def test_an_id_reused_past_the_first_batches_names_its_first_line(project, tmp_path):
    # The batch writer has flushed three batches by then; the COPY writer finds it in SQL.
    body = "id,text\n" + "".join(f"{i},text {i}\n" for i in range(3000)) + "5,changed\n"
    with pytest.raises(ImportFailed) as caught:
        import_file(project, write(tmp_path, "ids.csv", body), "csv")
    assert caught.value.errors == [{"line": 3002, "message": ID_CONFLICT.format("5", 7)}]
    assert not Example.objects.filter(project=project).exists()
