"""The data browser page's bulk delete asks for confirmation first; bad filters are a 400."""
from __future__ import annotations

import pytest

from annotator.models import Example

pytestmark = pytest.mark.django_db


def test_delete_all_matching_asks_first_then_deletes(client, project, owner):
    for i, t in enumerate(["red fox", "blue fox", "green whale"]):
        Example.objects.create(project=project, text=t, content_hash=f"h{i}")
    client.force_login(owner)
    url = f"/projects/{project.pk}/data/bulk/"
    body = {"action": "delete", "all_matching": "1", "filter_query": "q=fox"}
    confirm = client.post(url, body)
    assert confirm.status_code == 200 and b"Delete 2 examples?" in confirm.content
    assert Example.objects.filter(project=project).count() == 3
    done = client.post(url, {**body, "confirm": "1"}, follow=True)
    assert b"Deleted 2 examples." in done.content
    assert list(Example.objects.filter(project=project).values_list("text", flat=True)) == ["green whale"]


def test_bad_filter_is_named_at_the_top(client, project, owner):
    client.force_login(owner)
    response = client.get(f"/projects/{project.pk}/data/", {"posted_after": "soon"})
    assert response.status_code == 400
    assert b"posted_after: &#x27;soon&#x27; is not a date" in response.content


def test_annotators_cannot_open_it(client, project, annotator_user):
    client.force_login(annotator_user)
    assert client.get(f"/projects/{project.pk}/data/").status_code == 403
