"""Posting times from Twitter/X snowflake ids (`posted_at_from_id`): the decoding on
hand-computed ids, then every edge: the importer, the REST field, the CLI flag, the import
page and its preview."""
from __future__ import annotations

import datetime as dt
import html
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotator.importers import ImportFailed, import_file
from annotator.importers.values import snowflake_time
from annotator.models import Example
from tests.annotator.importers.conftest import write
from tests.web.helpers import client_for

# 1000 days after the Twitter epoch (2010-11-04T01:42:54.657Z), by hand: 2011-11-04 is 365
# days on, 2012-11-04 is 731 (2012 is a leap year), and 269 more days reach 2013-07-31.
THOUSAND_DAYS_MS = 1000 * 86_400_000
THOUSAND_DAYS_ID = THOUSAND_DAYS_MS << 22
THOUSAND_DAYS = "2013-07-31T01:42:54.657000+00:00"


def test_the_time_is_the_top_bits_of_the_id_after_the_twitter_epoch():
    assert snowflake_time(THOUSAND_DAYS_ID) == THOUSAND_DAYS
    # The low 22 bits (machine and sequence numbers) do not change the time.
    assert snowflake_time(str(THOUSAND_DAYS_ID + (1 << 22) - 1)) == THOUSAND_DAYS
    # One more millisecond is one more unit of the top bits.
    assert snowflake_time(THOUSAND_DAYS_ID + (1 << 22)) == "2013-07-31T01:42:54.658000+00:00"
    # CrisisLex quotes its ids; this one is a tweet of the 2013 Alberta floods.
    assert snowflake_time("'348265352758702081'") == "2013-06-22T02:25:05.212000+00:00"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "'abc' is not a tweet id"),
        ("12.5", "'12.5' is not a tweet id"),
        ("20", "20 is not a snowflake tweet id: ids of tweets posted before November 2010"),
        (str(2**63 - 1), "is in the future"),
        (True, "True is not a tweet id"),
    ],
)
def test_a_value_that_is_no_tweet_id_is_refused_saying_why(value, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("(", r"\(")):
        snowflake_time(value)


@pytest.mark.django_db
def test_the_import_sets_posted_at_from_the_id_column_and_a_date_column_wins(project, tmp_path):
    path = write(tmp_path, "t.csv",
                 "id,text,date\n"
                 f"{THOUSAND_DAYS_ID},flood downtown,\n"
                 f"{THOUSAND_DAYS_ID + 1},fire on the hill,2020-01-02 03:04:05\n"
                 ",no id at all,\n")
    result = import_file(project, path, "csv", mapping={"posted_at_from_id": True})
    assert result.imported == 3
    posted = {e.text: e.posted_at for e in Example.objects.filter(project=project)}
    assert posted["flood downtown"] == dt.datetime.fromisoformat(THOUSAND_DAYS)
    assert posted["fire on the hill"] == dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert posted["no id at all"] is None
    flood = Example.objects.get(text="flood downtown")
    assert flood.meta["created_at"] == THOUSAND_DAYS and flood.external_id == str(THOUSAND_DAYS_ID)


@pytest.mark.django_db
def test_a_bad_id_names_its_line_and_column_and_skip_keeps_the_rest(project, tmp_path):
    path = write(tmp_path, "t.csv", f"tweet,status id\nfirst,{THOUSAND_DAYS_ID}\nsecond,n/a\n")
    with pytest.raises(ImportFailed) as refused:
        import_file(project, path, "csv", mapping={"posted_at_from_id": "status id"})
    assert refused.value.errors == [
        {"line": 3, "message": "column 'status id': 'n/a' is not a tweet id (expected the id's digits)"}
    ]
    assert not Example.objects.exists()
    result = import_file(project, path, "csv", mapping={"posted_at_from_id": "status id"}, on_error="skip")
    assert (result.imported, result.skipped) == (1, 1)


@pytest.mark.django_db
def test_without_an_id_column_the_option_is_refused_before_any_row(project, tmp_path):
    path = write(tmp_path, "t.csv", "text,label\nfirst,HS\n")
    with pytest.raises(ImportFailed, match="posted_at_from_id needs the id column"):
        import_file(project, path, "csv", mapping={"posted_at_from_id": True})


@pytest.mark.django_db
def test_the_rest_field_takes_true_or_a_column_name(project, owner_api):
    body = f"tweet,id,other\nfirst,{THOUSAND_DAYS_ID},{THOUSAND_DAYS_ID + (5 << 22)}\n".encode()
    url = f"/api/v1/projects/{project.pk}/import"
    response = owner_api.post(url, {"file": SimpleUploadedFile("t.csv", body), "format": "csv",
                                    "posted_at_from_id": "true"}, format="multipart")
    assert response.status_code == 201, response.content
    assert Example.objects.get().posted_at == dt.datetime.fromisoformat(THOUSAND_DAYS)
    Example.objects.all().delete()
    response = owner_api.post(url, {"file": SimpleUploadedFile("t.csv", body), "format": "csv",
                                    "posted_at_from_id": "other"}, format="multipart")
    assert response.status_code == 201, response.content
    assert Example.objects.get().posted_at == dt.datetime.fromisoformat(THOUSAND_DAYS) + dt.timedelta(milliseconds=5)
    missing = owner_api.post(url, {"file": SimpleUploadedFile("t.csv", body), "format": "csv",
                                   "posted_at_from_id": "nowhere"}, format="multipart")
    assert missing.status_code == 400
    assert "posted_at_from_id column 'nowhere' is not in the header" in missing.json()["errors"][0]["message"]


@pytest.mark.django_db
def test_the_cli_flag_uses_the_id_column_or_the_named_one(project, tmp_path):
    path = write(tmp_path, "t.csv", f"id,text\n{THOUSAND_DAYS_ID},flood\n")
    out = StringIO()
    call_command("import_examples", str(project.pk), str(path), "--format", "csv",
                 "--posted-at-from-id", stdout=out)
    assert "imported 1" in out.getvalue()
    assert Example.objects.get().posted_at == dt.datetime.fromisoformat(THOUSAND_DAYS)
    bad = write(tmp_path, "b.csv", "id,text\nnope,smoke\n")
    err = StringIO()
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_examples", str(project.pk), str(bad), "--format", "csv",
                     "--posted-at-from-id", "id", stdout=StringIO(), stderr=err)
    assert f"{bad}:2: column 'id': 'nope' is not a tweet id" in err.getvalue()


@pytest.mark.django_db
def test_the_import_page_checkbox_and_the_preview_show_and_keep_the_times(project, owner, settings, tmp_path):
    settings.VIGIA_UPLOAD_DIR = tmp_path
    client = client_for(owner)
    body = f"id,text\n{THOUSAND_DAYS_ID},flood downtown\n".encode()
    page = client.get(reverse("project-detail", args=[project.pk])).content.decode()
    assert 'name="posted_at_from_id"' in page and "Posting times from tweet ids" in page
    preview_url = reverse("project-import-preview", args=[project.pk])
    first = client.post(preview_url, {"file": SimpleUploadedFile("t.csv", body), "format": "csv",
                                      "posted_at_from_id": "on"})
    shown = html.unescape(first.content.decode())
    assert "posted:</span> <span class=\"posted-at\">2013-07-31T01:42:54" in shown
    assert 'id="posted-at-from-id" checked' in shown
    token = client.session["import_preview"].popitem()[0]
    done = client.post(preview_url, {"token": token, "role-0": "id", "role-1": "text",
                                     "times-shown": "1", "posted_at_from_id": "1", "action": "import"})
    assert done.status_code == 302
    assert Example.objects.get().posted_at == dt.datetime.fromisoformat(THOUSAND_DAYS)
    Example.objects.all().delete()
    direct = client.post(reverse("project-import", args=[project.pk]),
                         {"file": SimpleUploadedFile("t.csv", body), "format": "csv",
                          "posted_at_from_id": "on"})
    assert direct.status_code in (200, 302)
    assert Example.objects.get().posted_at == dt.datetime.fromisoformat(THOUSAND_DAYS)
