"""Whose annotations a member may see: the one rule behind every filter, count and export.

Admins and viewers (reviewers) see every annotation of the project. An annotator sees only
their own annotations and those without a user (imported labels, model suggestions), so nobody's
labels bias theirs and nobody learns who labelled what: not through the annotations endpoint,
the examples list's filters (`label`, `annotated`, `source`, ...) and `annotation_count`, the
project's counts, the label distribution, nor an export. (Progress figures, such as how many
examples each annotator finished, carry no labels and stay visible to members.)
"""
from __future__ import annotations

from typing import Any

from django.db.models import Q

from annotator.models import Project, Role
from annotator.permissions import role_of

SEES_EVERYTHING = frozenset({Role.ADMIN, Role.VIEWER})


def role_in(project: Project, user: Any) -> str | None:
    """The caller's role, from `project.current_role` when a permission check set it."""
    role = getattr(project, "current_role", None)
    return role if role is not None else role_of(user, project)


def sees_everything(project: Project, user: Any | None) -> bool:
    """True for admins and viewers (and for `user=None`: the CLI and background jobs)."""
    return user is None or role_in(project, user) in SEES_EVERYTHING


def visible_annotations(project: Project, user: Any | None) -> Q:
    """A filter on Annotation rows: the ones `user` may read in `project`."""
    if sees_everything(project, user):
        return Q()
    if not getattr(user, "is_authenticated", False):
        return Q(user__isnull=True)
    return Q(user=user) | Q(user__isnull=True)


def restricted_user_id(project: Project, user: Any | None) -> int | None:
    """The user id annotation counts are limited to (with the user-less ones), or None when
    the caller sees everything: for raw SQL that cannot take a Q."""
    if sees_everything(project, user):
        return None
    return getattr(user, "pk", None) or -1
