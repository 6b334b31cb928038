"""POST /projects/<id>/annotate/<eid>/: saving decisions, plain (no JS) and through htmx."""
from __future__ import annotations

import json

import pytest
from django.urls import reverse

from annotator.models import Annotation, Assignment, AssignmentStatus, Membership, Role
from tests.conftest import make_project
from tests.web.helpers import HTMX, add_examples, client_for

pytestmark = pytest.mark.django_db


def submit_url(project, example):
    return reverse("annotate-example", args=[project.pk, example.pk])


def member(project, user, role=Role.ANNOTATOR):
    Membership.objects.create(user=user, project=project, role=role)
    return project


def test_a_plain_form_submit_saves_and_redirects_to_the_queue(project, annotator_user):
    one, _two = add_examples(project, ["one", "two"])
    c = client_for(annotator_user)
    c.get(reverse("annotate", args=[project.pk]))
    r = c.post(submit_url(project, one), {"labels": ["HS", "AG"], "action": "submit"})
    assert r.status_code == 302 and r["Location"] == reverse("annotate", args=[project.pk])
    a = Annotation.objects.get(example=one, user=annotator_user)
    assert a.labels == ["HS", "AG"] and a.source == "human"
    assert Assignment.objects.get(example=one, user=annotator_user).status == AssignmentStatus.DONE
    assert "two" in c.get(r["Location"]).content.decode()


def test_an_htmx_submit_answers_with_the_next_example(project, annotator_user):
    one, two = add_examples(project, ["one", "two"])
    c = client_for(annotator_user)
    c.get(reverse("annotate", args=[project.pk]))
    r = c.post(submit_url(project, one), {"labels": ["TR"]}, **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html
    assert f'data-example="{two.pk}"' in html
    assert r["HX-Push-Url"] == reverse("annotate", args=[project.pk])
    assert Annotation.objects.get(example=one).labels == ["TR"]


def test_an_unknown_label_is_refused_with_the_field_named(project, annotator_user):
    (one,) = add_examples(project, ["one"])
    c = client_for(annotator_user)
    c.get(reverse("annotate", args=[project.pk]))
    r = c.post(submit_url(project, one), {"labels": ["NOPE"]}, **HTMX)
    assert r.status_code == 422
    assert "labels: labels[0]: unknown label &#x27;NOPE&#x27;" in r.content.decode()
    assert not Annotation.objects.exists()


def test_viewers_cannot_submit(project, viewer):
    (one,) = add_examples(project, ["one"])
    r = client_for(viewer).post(submit_url(project, one), {"labels": ["HS"]})
    assert r.status_code == 403 and not Annotation.objects.exists()


def test_outsiders_get_404(project, outsider):
    (one,) = add_examples(project, ["one"])
    r = client_for(outsider).post(submit_url(project, one), {"labels": ["HS"]})
    assert r.status_code == 404 and not Annotation.objects.exists()


def test_an_annotator_cannot_label_an_example_not_handed_to_them(project, annotator_user):
    _one, two = add_examples(project, ["one", "two"])
    c = client_for(annotator_user)
    c.get(reverse("annotate", args=[project.pk]))  # claims "one"
    r = c.post(submit_url(project, two), {"labels": ["HS"]})
    assert r.status_code == 404 and not Annotation.objects.exists()


def test_skip_marks_the_assignment_skipped(project, annotator_user):
    one, two = add_examples(project, ["one", "two"])
    c = client_for(annotator_user)
    c.get(reverse("annotate", args=[project.pk]))
    r = c.post(submit_url(project, one), {"action": "skip"}, **HTMX)
    assert f'data-example="{two.pk}"' in r.content.decode()
    assert Assignment.objects.get(example=one).status == AssignmentStatus.SKIPPED
    assert not Annotation.objects.exists()


def test_binary_accept_and_reject(owner, annotator_user):
    p = member(make_project(owner, "binary", labels=("VIOLENCE",)), annotator_user)
    one, two = add_examples(p, ["one", "two"])
    c = client_for(annotator_user)
    c.get(reverse("annotate", args=[p.pk]))
    c.post(submit_url(p, one), {"action": "accept"})
    c.get(reverse("annotate", args=[p.pk]))
    c.post(submit_url(p, two), {"action": "reject"})
    assert Annotation.objects.get(example=one).labels == ["VIOLENCE"]
    assert Annotation.objects.get(example=two).labels == []


def test_singlelabel_takes_exactly_one_label(owner, annotator_user):
    p = member(make_project(owner, "singlelabel", labels=("pos", "neg")), annotator_user)
    (one,) = add_examples(p, ["one"])
    c = client_for(annotator_user)
    c.get(reverse("annotate", args=[p.pk]))
    assert c.post(submit_url(p, one), {"labels": ["pos", "neg"]}).status_code == 422
    assert c.post(submit_url(p, one), {"labels": ["neg"]}).status_code == 302
    assert Annotation.objects.get(example=one).labels == ["neg"]


def test_spans_from_the_hidden_json_field(owner, annotator_user):
    p = member(make_project(owner, "spans", labels=("LOC", "PER")), annotator_user)
    (one,) = add_examples(p, ["Floods in Lima today"])
    c = client_for(annotator_user)
    c.get(reverse("annotate", args=[p.pk]))
    spans = [{"start": 10, "end": 14, "label": "LOC"}]
    assert c.post(submit_url(p, one), {"spans": json.dumps(spans)}).status_code == 302
    assert Annotation.objects.get(example=one).spans == spans


def test_spans_without_javascript_as_start_end_label(owner, annotator_user):
    p = member(make_project(owner, "spans", labels=("LOC", "PER")), annotator_user)
    (one,) = add_examples(p, ["Ana saw floods in Lima"])
    c = client_for(annotator_user)
    c.get(reverse("annotate", args=[p.pk]))
    r = c.post(submit_url(p, one), {"spans": "", "spans_text": "0:3:PER, 18:22:LOC"})
    assert r.status_code == 302
    assert Annotation.objects.get(example=one).spans == [
        {"start": 0, "end": 3, "label": "PER"},
        {"start": 18, "end": 22, "label": "LOC"},
    ]


def test_overlapping_spans_are_refused_unless_the_project_allows_them(owner, annotator_user):
    p = member(make_project(owner, "spans", labels=("LOC", "PER")), annotator_user)
    (one,) = add_examples(p, ["New York City"])
    c = client_for(annotator_user)
    c.get(reverse("annotate", args=[p.pk]))
    spans = [{"start": 0, "end": 8, "label": "LOC"}, {"start": 4, "end": 13, "label": "LOC"}]
    r = c.post(submit_url(p, one), {"spans": json.dumps(spans)})
    assert r.status_code == 422 and "overlap" in r.content.decode()
    p.allow_overlapping_spans = True
    p.save()
    assert c.post(submit_url(p, one), {"spans": json.dumps(spans)}).status_code == 302
    assert len(Annotation.objects.get(example=one).spans) == 2


def test_bad_spans_text_names_the_item(owner, annotator_user):
    p = member(make_project(owner, "spans", labels=("LOC",)), annotator_user)
    (one,) = add_examples(p, ["Lima"])
    c = client_for(annotator_user)
    c.get(reverse("annotate", args=[p.pk]))
    r = c.post(submit_url(p, one), {"spans_text": "Lima is LOC"})
    assert r.status_code == 422 and "spans item 1" in r.content.decode()


def test_the_progress_line_follows_each_decision_and_undo(project, annotator_user):
    from django.core.cache import cache

    from annotator.services import progress

    one, _two = add_examples(project, ["one", "two"])
    # A test database made again reuses project ids: drop what an earlier run cached for them.
    cache.delete_many([progress._cache_key(project), progress._user_cache_key(project, annotator_user)])
    c = client_for(annotator_user)
    html = c.get(reverse("annotate", args=[project.pk])).content.decode()
    assert '<strong id="count-complete">0</strong> of <span id="count-total">2</span>' in html
    html = c.post(submit_url(project, one), {"labels": ["HS"]}, **HTMX).content.decode()
    assert '<strong id="count-complete">1</strong>' in html and '<strong id="my-done">1</strong>' in html
    html = c.post(reverse("annotate-undo", args=[project.pk]), **HTMX).content.decode()
    assert '<strong id="count-complete">0</strong>' in html and '<strong id="my-done">0</strong>' in html
