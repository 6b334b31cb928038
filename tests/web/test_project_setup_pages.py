"""The project setup pages (issue 13): new project, settings and labels, members, delete."""
from __future__ import annotations

import html

import pytest
from django.urls import reverse

from annotator.models import Label, Membership, Project, Role
from annotator.services.projects import PALETTE
from tests.conftest import make_user
from tests.web.helpers import client_for

pytestmark = pytest.mark.django_db


def new_project_form(**extra):
    form = {
        "has_checkboxes": "1", "name": "Floods 2026", "task_type": "multilabel", "overlap": "2",
        "normalization": "strip", "queue_strategy": "random", "retrain_backend": "embedding_head",
        "retrain_every": "50", "auto_promote": "on", "guidelines": "Label what the tweet reports.",
        "label-0-name": "flood", "label-0-shortcut": "f", "label-0-color": PALETTE[0],
        "label-1-name": "rescue", "label-1-shortcut": "2", "label-1-color": PALETTE[1],
        "label-2-name": "", "label-2-shortcut": "3", "label-2-color": PALETTE[2],
    }
    form.update(extra)
    return form


def test_the_new_page_offers_distinct_default_colours_and_keys(owner):
    page = client_for(owner).get(reverse("project-new")).content.decode()
    for i, colour in enumerate(PALETTE[:6]):
        assert f'name="label-{i}-color" value="{colour}"' in page
    assert 'name="label-0-shortcut" value="1"' in page and 'name="label-5-shortcut" value="6"' in page


def test_a_signed_in_user_creates_a_project_and_becomes_its_admin(owner):
    response = client_for(owner).post(reverse("project-new"), new_project_form())
    project = Project.objects.get(name="Floods 2026")
    assert response.status_code == 302 and response["Location"] == reverse("project-detail", args=[project.pk])
    assert (project.task_type, project.overlap, project.retrain_every, project.auto_promote) == ("multilabel", 2, 50, True)
    assert project.guidelines == "Label what the tweet reports."
    assert list(project.labels.values_list("name", "shortcut", "color")) == [
        ("flood", "f", PALETTE[0]), ("rescue", "2", PALETTE[1])]
    assert Membership.objects.get(project=project).role == Role.ADMIN


def test_a_span_project_gets_a_backend_that_trains_spans_by_default(owner):
    form = new_project_form(task_type="spans", retrain_backend="", retrain_every="")
    assert client_for(owner).post(reverse("project-new"), form).status_code == 302
    assert Project.objects.get(name="Floods 2026").retrain_backend == "span_tagger"


def test_a_refused_project_shows_the_error_at_the_top_and_keeps_the_input(owner):
    response = client_for(owner).post(reverse("project-new"), new_project_form(**{"label-1-shortcut": "f"}))
    page = html.unescape(response.content.decode())
    assert response.status_code == 400 and not Project.objects.exists()
    assert page.index('id="setup-error"') < page.index('id="project-form"')
    assert "shortcut 'f' is used twice" in page and 'value="rescue"' in page


def test_the_settings_page_edits_settings_and_labels(project, owner):
    client = client_for(owner)
    hs, tr, ag = project.labels.order_by("order")
    response = client.post(reverse("project-edit", args=[project.pk]), {
        "has_checkboxes": "1", "name": "Renamed", "task_type": "multilabel", "overlap": "3",
        "normalization": "placeholders", "queue_strategy": "sequential", "queue_label": "",
        "retrain_backend": "embedding_head", "retrain_every": "", "guidelines": "new rules",
        "label-0-id": hs.pk, "label-0-name": "Hate", "label-0-shortcut": "h", "label-0-color": "#000000",
        "label-1-id": tr.pk, "label-1-name": "TR", "label-1-shortcut": "w", "label-1-color": tr.color,
        "label-2-id": ag.pk, "label-2-name": "AG", "label-2-shortcut": "e", "label-2-color": ag.color,
        "label-2-delete": "on",
        "label-3-name": "Irony", "label-3-shortcut": "i", "label-3-color": "#123456",
    })
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.overlap, project.normalization, project.queue_strategy) == (
        "Renamed", 3, "placeholders", "sequential")
    assert list(project.labels.order_by("order").values_list("name", "shortcut", "color")) == [
        ("Hate", "h", "#000000"), ("TR", "w", tr.color), ("Irony", "i", "#123456")]


def test_annotators_cannot_open_the_settings_or_delete_pages(project, annotator_user, outsider):
    for name in ("project-edit", "project-delete"):
        assert client_for(annotator_user).get(reverse(name, args=[project.pk])).status_code == 403
        assert client_for(outsider).get(reverse(name, args=[project.pk])).status_code == 404
    response = client_for(annotator_user).post(
        reverse("project-members", args=[project.pk]), {"action": "add", "username": "x"})
    assert response.status_code == 403


def test_members_are_added_by_username_changed_and_removed(project, owner, annotator_user):
    newcomer = make_user("newcomer")
    client = client_for(owner)
    url = reverse("project-members", args=[project.pk])
    assert client.post(url, {"action": "add", "username": "newcomer", "role": "viewer"}).status_code == 302
    membership = Membership.objects.get(project=project, user=newcomer)
    assert membership.role == Role.VIEWER
    assert client.post(url, {"action": "role", "member": membership.pk, "role": "admin"}).status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    assert client.post(url, {"action": "remove", "member": membership.pk}).status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    unknown = client.post(url, {"action": "add", "username": "nobody"})
    assert unknown.status_code == 400 and "no active user named &#x27;nobody&#x27;" in unknown.content.decode()
    again = client.post(url, {"action": "add", "username": annotator_user.username})
    assert again.status_code == 409 and "already a member" in again.content.decode()


def test_the_last_admin_is_kept_as_over_rest(project, owner, owner_api):
    me = Membership.objects.get(project=project, user=owner)
    url = reverse("project-members", args=[project.pk])
    page = client_for(owner).post(url, {"action": "role", "member": me.pk, "role": "annotator"})
    rest = owner_api.patch(f"/api/v1/projects/{project.pk}/members/{me.pk}/", {"role": "annotator"}, format="json")
    assert page.status_code == rest.status_code == 409
    assert "last admin" in rest.json()["detail"]
    assert rest.json()["detail"] in html.unescape(page.content.decode())  # the same message
    page = client_for(owner).post(url, {"action": "remove", "member": me.pk})
    assert page.status_code == 409 and "last admin" in page.content.decode()
    me.refresh_from_db()
    assert me.role == Role.ADMIN


def test_delete_asks_for_the_name_and_then_deletes(project, owner):
    client = client_for(owner)
    url = reverse("project-delete", args=[project.pk])
    assert "Type the project" in client.get(url).content.decode()
    wrong = client.post(url, {"confirm_name": "something else"})
    assert wrong.status_code == 400 and Project.objects.filter(pk=project.pk).exists()
    assert "type the project&#x27;s name exactly" in wrong.content.decode()
    done = client.post(url, {"confirm_name": project.name}, follow=True)
    assert not Project.objects.filter(pk=project.pk).exists() and not Label.objects.exists()
    assert f"Deleted project {project.name}" in done.content.decode()


def test_the_list_and_detail_pages_link_the_setup_pages(project, owner, annotator_user):
    listing = client_for(owner).get(reverse("project-list")).content.decode()
    assert reverse("project-new") in listing and reverse("project-edit", args=[project.pk]) in listing
    detail = client_for(owner).get(reverse("project-detail", args=[project.pk])).content.decode()
    for name in ("project-edit", "project-members", "project-delete", "project-import-preview"):
        assert reverse(name, args=[project.pk]) in detail
    annotator_view = client_for(annotator_user).get(reverse("project-detail", args=[project.pk])).content.decode()
    assert reverse("project-delete", args=[project.pk]) not in annotator_view


def test_every_page_links_a_favicon_that_exists(client, owner):
    page = client_for(owner).get(reverse("project-list")).content.decode()
    assert 'rel="icon"' in page and "annotator/favicon.svg" in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("annotator/favicon.svg")
