"""GET|POST /api/v1/projects/{id}/members/ and PATCH|DELETE .../members/{mid}/"""

from __future__ import annotations

import pytest

from annotator.models import Membership, Role
from tests.conftest import make_user


def list_url(project) -> str:
    return f"/api/v1/projects/{project.pk}/members/"


def detail_url(project, membership) -> str:
    return f"/api/v1/projects/{project.pk}/members/{membership.pk}/"


def test_members_see_the_member_list(project, annotator_api, viewer_api):
    for client in (annotator_api, viewer_api):
        rows = client.get(list_url(project)).json()
        assert {(r["username"], r["role"]) for r in rows} == {
            ("owner", "admin"),
            ("annotator", "annotator"),
            ("viewer", "viewer"),
        }


def test_outsiders_get_404(project, outsider, outsider_api):
    m = Membership.objects.get(project=project, user__username="annotator")
    assert outsider_api.get(list_url(project)).status_code == 404
    assert (
        outsider_api.post(list_url(project), {"username": "outsider"}, format="json").status_code
        == 404
    )
    assert (
        outsider_api.patch(detail_url(project, m), {"role": "admin"}, format="json").status_code
        == 404
    )
    assert outsider_api.delete(detail_url(project, m)).status_code == 404
    assert not Membership.objects.filter(user=outsider).exists()
    assert Membership.objects.get(pk=m.pk).role == Role.ANNOTATOR


def test_admins_add_members_by_username_or_id(project, owner_api, db):
    alice, bob = make_user("alice"), make_user("bob")
    r1 = owner_api.post(list_url(project), {"username": "alice", "role": "viewer"}, format="json")
    r2 = owner_api.post(list_url(project), {"user": bob.pk}, format="json")
    assert (r1.status_code, r2.status_code) == (201, 201)
    assert Membership.objects.get(project=project, user=alice).role == Role.VIEWER
    assert Membership.objects.get(project=project, user=bob).role == Role.ANNOTATOR
    assert r1.json()["username"] == "alice"


def test_adding_bad_or_duplicate_members_fails(project, owner_api):
    assert (
        owner_api.post(list_url(project), {"username": "ghost"}, format="json").status_code == 400
    )
    assert owner_api.post(list_url(project), {}, format="json").status_code == 400
    dup = owner_api.post(list_url(project), {"username": "viewer", "role": "admin"}, format="json")
    assert dup.status_code == 409
    assert (
        owner_api.post(
            list_url(project), {"username": "viewer", "role": "boss"}, format="json"
        ).status_code
        == 400
    )
    assert Membership.objects.get(project=project, user__username="viewer").role == Role.VIEWER


@pytest.mark.parametrize("who", ["annotator_api", "viewer_api"])
def test_non_admins_cannot_manage_members(project, who, request, outsider):
    client = request.getfixturevalue(who)
    m = Membership.objects.get(project=project, user__username="owner")
    assert (
        client.post(list_url(project), {"username": "outsider"}, format="json").status_code == 403
    )
    assert (
        client.patch(detail_url(project, m), {"role": "viewer"}, format="json").status_code == 403
    )
    assert client.delete(detail_url(project, m)).status_code == 403
    assert Membership.objects.get(pk=m.pk).role == Role.ADMIN
    assert not Membership.objects.filter(user=outsider).exists()


def test_admins_change_roles(project, owner_api):
    m = Membership.objects.get(project=project, user__username="viewer")
    response = owner_api.patch(detail_url(project, m), {"role": "annotator"}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "annotator"
    assert Membership.objects.get(pk=m.pk).role == Role.ANNOTATOR


def test_the_last_admin_can_be_neither_demoted_nor_removed(project, owner_api):
    m = Membership.objects.get(project=project, user__username="owner")
    assert (
        owner_api.patch(detail_url(project, m), {"role": "viewer"}, format="json").status_code
        == 409
    )
    assert owner_api.delete(detail_url(project, m)).status_code == 409
    assert Membership.objects.get(pk=m.pk).role == Role.ADMIN


def test_an_admin_steps_down_once_another_admin_exists(project, owner_api):
    Membership.objects.filter(project=project, user__username="annotator").update(role=Role.ADMIN)
    m = Membership.objects.get(project=project, user__username="owner")
    assert (
        owner_api.patch(detail_url(project, m), {"role": "viewer"}, format="json").status_code
        == 200
    )
    assert Membership.objects.get(pk=m.pk).role == Role.VIEWER


def test_admins_remove_members(project, owner_api):
    m = Membership.objects.get(project=project, user__username="annotator")
    assert owner_api.delete(detail_url(project, m)).status_code == 204
    assert not Membership.objects.filter(pk=m.pk).exists()


def test_a_member_may_leave_the_project(project, viewer_api):
    mine = Membership.objects.get(project=project, user__username="viewer")
    other = Membership.objects.get(project=project, user__username="annotator")
    assert viewer_api.delete(detail_url(project, other)).status_code == 403
    assert viewer_api.delete(detail_url(project, mine)).status_code == 204
    assert not Membership.objects.filter(pk=mine.pk).exists()
    assert viewer_api.get(list_url(project)).status_code == 404
