"""Project setup in a real Chromium (issue 13): create a multilabel project in the browser, add a
member, import with the preview (one column's role changed in its dropdown), see the rows
arrive, then delete the project through its confirmation page."""
from __future__ import annotations

import pytest

from annotator.models import Example, Membership, Project, Role
from annotator.services.projects import PALETTE
from tests.conftest import make_user

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]

CSV = (
    "words,flood,rescue,Retweets\n"
    "river over the bridge,1,0,12\n"
    "boats pulling people from roofs,1,1,40\n"
    "sunny day at the beach,0,0,3\n"
)


def test_an_admin_sets_up_a_project_in_the_browser(login, live_server, owner, shot, tmp_path, settings):
    settings.VIGIA_UPLOAD_DIR = tmp_path
    make_user("maria")
    page = login(owner)
    favicons = []
    page.on("response", lambda r: favicons.append(r.status) if "favicon" in r.url else None)

    # --- new project ---------------------------------------------------------------------
    page.click("#new-project")
    page.wait_for_selector("#project-form")
    assert page.input_value("input[name=label-0-color]") == PALETTE[0]
    assert page.input_value("input[name=label-1-color]") == PALETTE[1]
    page.fill("#id_name", "Floods")
    page.select_option("#id_task_type", "multilabel")
    page.fill("input[name=label-0-name]", "flood")
    page.fill("input[name=label-1-name]", "rescue")
    page.fill("input[name=label-1-shortcut]", "1")  # clashes with flood's default key
    page.fill("#id_guidelines", "Mark what the tweet reports.")
    page.fill("#id_retrain_every", "-2")
    page.click("#save-project")
    page.wait_for_selector("#setup-error")
    assert "retrain_every must be a whole number >= 1" in page.inner_text("#setup-error")
    shot(page, "new-project-refused")
    assert not Project.objects.exists()
    page.fill("#id_retrain_every", "")
    page.click("#save-project")
    page.wait_for_selector("#setup-error")
    assert "shortcut '1' is used twice" in page.inner_text("#setup-error")
    page.fill("input[name=label-1-shortcut]", "r")
    page.check("#id_auto_promote")
    shot(page, "new-project")
    page.click("#save-project")
    page.wait_for_selector("#import")
    project = Project.objects.get(name="Floods")
    assert project.task_type == "multilabel" and project.auto_promote is True
    assert list(project.labels.values_list("name", "shortcut", "color")) == [
        ("flood", "1", PALETTE[0]), ("rescue", "r", PALETTE[1])]

    # --- settings page -------------------------------------------------------------------
    page.click("#settings-link")
    page.wait_for_selector("#project-form")
    shot(page, "settings")

    # --- members -------------------------------------------------------------------------
    page.click("#members-link")
    page.wait_for_selector("#add-member")
    page.fill("#id_username", "maria")
    page.select_option("#id_role", "annotator")
    page.click("#add-member button[type=submit]")
    page.wait_for_selector("#member-maria")
    assert Membership.objects.get(project=project, user__username="maria").role == Role.ANNOTATOR
    page.select_option("#member-owner select[name=role]", "viewer")
    page.click("#member-owner button:has-text('Change role')")
    page.wait_for_selector("#members-error")
    assert "last admin" in page.inner_text("#members-error")
    shot(page, "members")

    # --- import with the preview ---------------------------------------------------------
    source = tmp_path / "floods.csv"
    source.write_text(CSV, encoding="utf-8")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.set_input_files("#import input[type=file]", str(source))
    page.click("#preview-import")
    page.wait_for_selector("#preview-table")
    assert "no text column" in page.inner_text("#import-errors")
    assert page.input_value("select[data-column=flood]") == "label:flood"
    assert page.input_value("select[data-column=Retweets]") == "meta:retweet_count"
    shot(page, "preview-detected")
    page.select_option("select[data-column=words]", "text")  # the dropdown, not a JSON box
    page.click("#update-preview")
    page.wait_for_selector("#preview-table")
    assert page.locator("#import-errors").count() == 0
    assert "boats pulling people from roofs" in page.inner_text("#preview-table")
    assert "flood, rescue" in page.inner_text("#preview-table")
    shot(page, "preview-mapped")
    page.click("#confirm-import")
    page.wait_for_selector("#count-total")
    assert page.inner_text("#count-total") == "3"
    assert "Imported 3 examples" in page.inner_text(".messages")
    labels = {e.text: e.annotations.get().labels for e in Example.objects.filter(project=project)}
    assert labels["boats pulling people from roofs"] == ["flood", "rescue"]
    assert Example.objects.get(text="river over the bridge").meta["retweet_count"] == 12
    shot(page, "imported")

    # --- delete with the confirmation ------------------------------------------------------
    page.click("#delete-link")
    page.wait_for_selector("#confirm-delete")
    assert "3 examples" in page.inner_text("#delete-summary")
    page.fill("#id_confirm_name", "floods")
    page.click("#confirm-delete")
    page.wait_for_selector("#delete-error")
    shot(page, "delete-refused")
    assert Project.objects.filter(pk=project.pk).exists()
    page.fill("#id_confirm_name", "Floods")
    page.click("#confirm-delete")
    page.wait_for_selector("#new-project")
    assert "Deleted project Floods" in page.inner_text(".messages")
    assert not Project.objects.filter(pk=project.pk).exists() and not Example.objects.exists()
    assert 404 not in favicons
