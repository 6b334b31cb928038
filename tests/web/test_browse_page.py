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


def test_next_link_carries_the_keyset_cursor(client, project, owner):
    made = [Example.objects.create(project=project, text=f"tweet {i}", content_hash=f"k{i}") for i in range(3)]
    client.force_login(owner)
    first = client.get(f"/projects/{project.pk}/data/", {"page_size": "2", "q": "tweet"})
    assert first.context["next_url"].endswith(f"&page=2&after={made[1].pk}")
    second = client.get(f"/projects/{project.pk}/data/{first.context['next_url']}")
    assert [r["example"].pk for r in second.context["rows"]] == [made[2].pk]
    assert "after=" not in second.context["prev_url"] and second.context["next_url"] == ""
