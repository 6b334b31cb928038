"""Undo (POST /projects/<id>/annotate/undo/) and editing a decision from the history."""
from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import Annotation, Assignment, AssignmentStatus
from tests.web.helpers import HTMX, add_examples, client_for

pytestmark = pytest.mark.django_db


def annotate(c, project, example, labels):
    c.get(reverse("annotate", args=[project.pk]))
    return c.post(reverse("annotate-example", args=[project.pk, example.pk]), {"labels": labels})


def test_undo_removes_the_last_annotation_and_brings_the_example_back(project, annotator_user):
    one, two, three = add_examples(project, ["one", "two", "three"])
    c = client_for(annotator_user)
    annotate(c, project, one, ["HS"])
    annotate(c, project, two, ["TR"])
    c.get(reverse("annotate", args=[project.pk]))  # "three" is now on screen
    r = c.post(reverse("annotate-undo", args=[project.pk]), **HTMX)
    assert f'data-example="{two.pk}"' in r.content.decode()
    assert not Annotation.objects.filter(example=two).exists()
    assert Annotation.objects.filter(example=one).exists()
    assert Assignment.objects.get(example=two).status == AssignmentStatus.ASSIGNED
    # Labelling it again, then the queue goes on with "three".
    r = c.post(reverse("annotate-example", args=[project.pk, two.pk]), {"labels": ["AG"]}, **HTMX)
    assert f'data-example="{three.pk}"' in r.content.decode()
    assert Annotation.objects.get(example=two).labels == ["AG"]


def test_undo_of_a_skip_brings_the_skipped_example_back(project, annotator_user):
    one, _two = add_examples(project, ["one", "two"])
    c = client_for(annotator_user)
    c.get(reverse("annotate", args=[project.pk]))
    c.post(reverse("annotate-example", args=[project.pk, one.pk]), {"action": "skip"})
    r = c.post(reverse("annotate-undo", args=[project.pk]))
    assert r.status_code == 302
    assert Assignment.objects.get(example=one).status == AssignmentStatus.ASSIGNED
    assert f'data-example="{one.pk}"' in c.get(r["Location"]).content.decode()


def test_undo_is_for_annotators_only(project, viewer, outsider):
    assert client_for(viewer).post(reverse("annotate-undo", args=[project.pk])).status_code == 403
    assert client_for(outsider).post(reverse("annotate-undo", args=[project.pk])).status_code == 404


def test_the_history_lists_the_last_ten_decisions_newest_first(project, annotator_user):
    examples = add_examples(project, [f"tweet number {i}" for i in range(12)])
    c = client_for(annotator_user)
    for ex in examples:
        annotate(c, project, ex, ["HS"])
    html = c.get(reverse("annotate", args=[project.pk])).content.decode()
    history = html.split('id="history"')[1]
    assert history.count("<li") == 10
    assert history.index("tweet number 11") < history.index("tweet number 2")
    assert "tweet number 1<" not in history and "tweet number 0" not in history


def test_editing_a_decision_from_the_history_updates_the_annotation(project, annotator_user):
    one, two = add_examples(project, ["one", "two"])
    c = client_for(annotator_user)
    annotate(c, project, one, ["HS"])
    c.get(reverse("annotate", args=[project.pk]))  # "two" on screen
    edit_url = reverse("annotate-example", args=[project.pk, one.pk])
    r = c.get(edit_url, **HTMX)
    html = r.content.decode()
    assert "Editing a decision" in html and 'value="HS" checked' in html
    assert r["HX-Push-Url"] == edit_url
    r = c.post(edit_url, {"labels": ["TR", "AG"]}, **HTMX)
    assert f'data-example="{two.pk}"' in r.content.decode()
    a = Annotation.objects.get(example=one, user=annotator_user)
    assert a.labels == ["TR", "AG"]
    assert Annotation.objects.filter(example=one).count() == 1


def test_no_one_can_open_someone_elses_example_for_editing(project, owner, annotator_user):
    (one,) = add_examples(project, ["one"])
    annotate(client_for(owner), project, one, ["HS"])
    r = client_for(annotator_user).get(reverse("annotate-example", args=[project.pk, one.pk]))
    assert r.status_code == 404
