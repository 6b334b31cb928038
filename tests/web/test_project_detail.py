"""GET /projects/<id>/: counts, label distribution, guidelines, links, import form for admins."""
from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import Annotation, Membership, Role
from tests.conftest import make_project
from tests.web.helpers import add_examples, client_for

pytestmark = pytest.mark.django_db


def url(project):
    return reverse("project-detail", args=[project.pk])


def test_it_shows_counts_distribution_and_guidelines(project, owner, annotator_user):
    project.guidelines = "Label <b>hate</b> only when targeted."
    project.save()
    one, two, _three = add_examples(project, ["a", "b", "c"])
    Annotation.objects.create(example=one, user=annotator_user, labels=["HS", "AG"])
    Annotation.objects.create(example=two, user=None, labels=["HS"], source="import")
    html = client_for(owner).get(url(project)).content.decode()
    assert '<dd id="count-total">3</dd>' in html
    # Imported labels are not passed off as people's work.
    assert '<dd id="count-annotated">1</dd>' in html
    assert '<dd id="count-imported">1</dd>' in html
    assert "HS</td><td class=\"num\">2</td>" in html
    assert "AG</td><td class=\"num\">1</td>" in html
    assert "TR</td><td class=\"num\">0</td>" in html
    assert "Label &lt;b&gt;hate&lt;/b&gt; only when targeted." in html


def test_span_label_distribution_counts_spans(owner):
    p = make_project(owner, "spans", labels=("LOC", "PER"))
    (one,) = add_examples(p, ["Ana in Lima and Quito"])
    Annotation.objects.create(example=one, user=owner, spans=[
        {"start": 7, "end": 11, "label": "LOC"}, {"start": 16, "end": 21, "label": "LOC"},
        {"start": 0, "end": 3, "label": "PER"}])
    html = client_for(owner).get(url(p)).content.decode()
    assert "LOC</td><td class=\"num\">2</td>" in html and "PER</td><td class=\"num\">1</td>" in html


def test_admins_get_the_import_form_and_export_links(project, owner):
    html = client_for(owner).get(url(project)).content.decode()
    assert reverse("project-import", args=[project.pk]) in html
    assert f"/api/v1/projects/{project.pk}/export?format=jsonl" in html
    assert f'href="/models/projects/{project.pk}/runs/"' in html
    assert reverse("annotate", args=[project.pk]) in html


def test_annotators_see_the_page_without_the_import_form(project, annotator_user):
    html = client_for(annotator_user).get(url(project)).content.decode()
    assert reverse("project-import", args=[project.pk]) not in html
    assert reverse("annotate", args=[project.pk]) in html


def test_viewers_see_the_page_without_annotate_or_import(project, viewer):
    r = client_for(viewer).get(url(project))
    html = r.content.decode()
    assert r.status_code == 200
    assert reverse("annotate", args=[project.pk]) not in html
    assert reverse("project-import", args=[project.pk]) not in html


def test_outsiders_get_404(project, outsider):
    assert client_for(outsider).get(url(project)).status_code == 404


def test_unknown_projects_are_404(owner):
    assert client_for(owner).get(reverse("project-detail", args=[987654])).status_code == 404


def test_per_annotator_counts_show_on_the_page(project, owner, annotator_user):
    Membership.objects.filter(user=annotator_user).update(role=Role.ANNOTATOR)
    add_examples(project, ["a", "b"])
    c = client_for(annotator_user)
    c.get(reverse("annotate", args=[project.pk]))
    html = client_for(owner).get(url(project)).content.decode()
    assert "<td>annotator</td><td>0</td><td>0</td><td>1</td>" in html


def test_binary_label_distribution_shows_rejects_beside_accepts(owner, annotator_user):
    p = make_project(owner, "binary", labels=("HS",))
    one, two, three = add_examples(p, ["x one", "y two", "z three"])
    Annotation.objects.create(example=one, user=owner, labels=["HS"])
    Annotation.objects.create(example=two, user=owner, labels=[])
    Annotation.objects.create(example=three, user=owner, labels=[])
    html = client_for(owner).get(url(p)).content.decode()
    assert "HS</td><td class=\"num\">1</td>" in html
    assert "not HS (rejected)</td><td class=\"num\">2</td>" in html
