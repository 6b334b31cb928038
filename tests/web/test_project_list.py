"""GET /: the project list with progress per project and per annotator."""
from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import Annotation, Assignment, AssignmentStatus
from tests.web.helpers import add_examples, client_for

pytestmark = pytest.mark.django_db


def test_it_lists_projects_with_progress_per_project_and_annotator(project, owner, annotator_user):
    one, two, three, _four = add_examples(project, ["a", "b", "c", "d"])
    for ex, status in ((one, AssignmentStatus.DONE), (two, AssignmentStatus.DONE),
                       (three, AssignmentStatus.SKIPPED)):
        Assignment.objects.create(example=ex, user=annotator_user, status=status)
    Annotation.objects.create(example=one, user=annotator_user, labels=["HS"])
    Annotation.objects.create(example=two, user=annotator_user, labels=[])
    html = client_for(owner).get(reverse("project-list")).content.decode()
    assert project.name in html
    assert "2 / 4 complete" in html
    assert "<td>annotator</td><td>2</td><td>1</td><td>0</td>" in html
    assert 'style="width: 50%"' in html


def test_annotators_see_an_annotate_link_viewers_do_not(project, annotator_user, viewer):
    link = reverse("annotate", args=[project.pk])
    assert link in client_for(annotator_user).get(reverse("project-list")).content.decode()
    assert link not in client_for(viewer).get(reverse("project-list")).content.decode()


def test_outsiders_do_not_see_the_project(project, outsider):
    html = client_for(outsider).get(reverse("project-list")).content.decode()
    assert project.name not in html and "not a member" in html


def test_anonymous_users_are_sent_to_login(client):
    r = client.get(reverse("project-list"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))


def test_staff_get_an_admin_link_and_everyone_a_models_link(project, owner):
    html = client_for(owner).get(reverse("project-list")).content.decode()
    assert 'href="/models/"' in html and 'href="/admin/"' not in html
    owner.is_staff = True
    owner.save()
    assert 'href="/admin/"' in client_for(owner).get(reverse("project-list")).content.decode()
