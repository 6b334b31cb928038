"""Agreement and adjudication pages: admins only, errors shown in place, the imported count."""
from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import Annotation
from annotator.services import progress
from tests.api.factories import annotate
from tests.web.helpers import add_examples, client_for

pytestmark = pytest.mark.django_db


def test_annotators_cannot_open_agreement_or_adjudication(project, annotator_user):
    client = client_for(annotator_user)
    assert client.get(reverse("agreement", args=[project.pk])).status_code == 403
    assert client.get(reverse("adjudicate", args=[project.pk])).status_code == 403


def test_a_bad_final_decision_is_shown_at_the_top_and_nothing_is_stored(
    project, owner, annotator_user
):
    (one,) = add_examples(project, ["they differ"])
    annotate(one, owner, ["HS"])
    annotate(one, annotator_user, ["TR"])
    url = reverse("adjudicate-example", args=[project.pk, one.pk])
    response = client_for(owner).post(url, {"labels": ["NOPE"]})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="adjudicate-error"' in html and "unknown label &#x27;NOPE&#x27;" in html
    assert not Annotation.objects.filter(source="adjudicated").exists()
    taken = client_for(owner).post(url, {"take": "2"})
    assert taken.status_code == 302
    assert Annotation.objects.get(source="adjudicated").labels == ["TR"]


def test_imported_labels_are_counted_apart_from_peoples(project, owner):
    one, two, _three = add_examples(project, ["a", "b", "c"])
    Annotation.objects.create(example=one, user=None, labels=["HS"], source="import")
    Annotation.objects.create(example=two, user=None, labels=["HS"], source="import")
    annotate(two, owner, ["TR"])
    counts = progress.project_counts([project])[project.pk]
    assert (counts.annotated, counts.by_people, counts.imported) == (2, 1, 1)
