"""The project page's import form in a real Chromium: a refused file shows its errors at the top
and the offer to skip the bad rows; taking it imports the rest and lists what was left out."""
from __future__ import annotations

import pytest

from annotator.models import Example

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]

MIXED = "text,labels\nflood downtown,HS\n,TR\nfire,NOPE\n\"stray quote,HS\nquake,AG\n"


def test_refused_rows_are_listed_and_the_rest_imported_on_request(login, live_server, project, owner, shot, tmp_path, settings):
    settings.VIGIA_UPLOAD_DIR = tmp_path
    source = tmp_path / "mixed.csv"
    source.write_text(MIXED, encoding="utf-8")
    page = login(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.set_input_files("#import input[type=file]", str(source))
    page.click("#import button[type=submit]")
    page.wait_for_selector("#import-errors")
    errors = page.inner_text("#import-errors")
    assert "line 3: column 'text': the text is empty" in errors
    assert "line 4: column 'labels': unknown label 'NOPE'" in errors
    assert "line 5: malformed CSV record" in errors
    shot(page, "refused")
    assert not Example.objects.filter(project=project).exists()

    page.click("#import-skip button")
    page.wait_for_selector("#import-skipped")
    assert "Imported 1 examples (0 duplicates skipped, 3 bad rows left out)." in page.inner_text("body")
    shot(page, "skipped")
    assert list(Example.objects.filter(project=project).values_list("text", flat=True)) == ["flood downtown"]
