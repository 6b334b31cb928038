"""annotator.services.projects: label schema rules, defaults, and the last-admin guard."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from annotator.models import Membership, Role
from annotator.services.projects import (
    DEFAULT_SHORTCUTS,
    PALETTE,
    ProjectRuleError,
    add_label,
    change_role,
    create_project,
    remove_member,
)
from tests.conftest import make_user


def test_create_project_assigns_shortcuts_around_the_given_ones(owner):
    project = create_project(
        creator=owner,
        name="p",
        task_type="multilabel",
        labels=["a", {"name": "b", "shortcut": "1"}, "c"],
    )
    keys = dict(project.labels.values_list("name", "shortcut"))
    assert keys == {"a": "2", "b": "1", "c": "3"}
    colors = list(project.labels.values_list("color", flat=True))
    assert colors == PALETTE[:3]


def test_create_project_runs_out_of_default_keys_gracefully(owner):
    names = [f"L{i}" for i in range(len(DEFAULT_SHORTCUTS) + 2)]
    project = create_project(creator=owner, name="p", task_type="multilabel", labels=names)
    shortcuts = list(project.labels.values_list("shortcut", flat=True))
    assert shortcuts[: len(DEFAULT_SHORTCUTS)] == list(DEFAULT_SHORTCUTS)
    assert shortcuts[-2:] == ["", ""]


def test_create_project_rejects_unknown_fields_and_stores_nothing(owner):
    with pytest.raises(ProjectRuleError, match="unknown project fields: colour"):
        create_project(creator=owner, name="p", task_type="binary", labels=["x"], colour="red")
    assert not Membership.objects.exists()


def test_add_label_rejects_reserved_and_long_shortcuts(project):
    for key in (" ", "?", "ab"):
        with pytest.raises(ProjectRuleError, match="shortcut"):
            add_label(project, "X", shortcut=key)
    assert project.labels.count() == 3


def test_add_label_rejects_an_empty_name(project):
    with pytest.raises(ProjectRuleError, match="empty"):
        add_label(project, "   ")



@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin():
    a, b = make_user("a"), make_user("b")
    for _ in range(5):
        project = create_project(creator=a, name="p", task_type="binary", labels=["x"])
        mb = Membership.objects.create(project=project, user=b, role=Role.ADMIN)
        ma = Membership.objects.get(project=project, user=a)
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def demote(membership, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait()
                change_role(membership, Role.VIEWER)
                outcomes.append("demoted")
            except ProjectRuleError:
                outcomes.append("refused")
            finally:
                connection.close()

        threads = [threading.Thread(target=demote, args=(m,)) for m in (ma, mb)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes) == ["demoted", "refused"]
        assert Membership.objects.filter(project=project, role=Role.ADMIN).count() == 1


def test_remove_member_keeps_the_last_admin(project, owner):
    with pytest.raises(ProjectRuleError, match="last admin"):
        remove_member(Membership.objects.get(project=project, user=owner))
    assert Membership.objects.filter(project=project, user=owner, role=Role.ADMIN).exists()
