"""Who may do what in a project. Outsiders get 404: a project's existence is not disclosed.

Roles rank admin > annotator > viewer. Django superusers act as admins of every project.
Used by REST views (DRF), browser views and services alike.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from annotator.models import Membership, Project, Role

RANK = {Role.VIEWER: 1, Role.ANNOTATOR: 2, Role.ADMIN: 3}


def confined_to(user: Any) -> tuple[int, str] | None:
    """(project id, role) of a principal confined to one project, else None.

    A project API key authenticates as its own service user with this attribute set
    (integrations.api_keys.auth): it is a member of that project with that role and of no other,
    whatever memberships or superuser flag the user row has."""
    return getattr(user, "vigia_confined_to", None)


class RoleRequired(PermissionDenied):
    """A member's role is below what the page or endpoint needs (403). Carries the project and
    both roles so the refused page (templates/403.html) can say what is missing and link back
    to the project, which every member may view."""

    def __init__(self, project: Project, role: str, needed: str) -> None:
        super().__init__(f"This needs the {needed} role in project {project.pk}.")
        self.project, self.role, self.needed = project, role, needed


def role_of(user: AbstractBaseUser | AnonymousUser, project: Project) -> str | None:
    if not user.is_authenticated:
        return None
    confined = confined_to(user)
    if confined is not None:
        return confined[1] if confined[0] == project.pk else None
    if user.is_superuser:
        return Role.ADMIN
    return (
        Membership.objects.filter(user=user, project=project).values_list("role", flat=True).first()
    )


def visible_projects(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Project]:
    if not user.is_authenticated:
        return Project.objects.none()
    confined = confined_to(user)
    if confined is not None:
        return Project.objects.filter(pk=confined[0])
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)


def get_project_for(
    user: AbstractBaseUser | AnonymousUser,
    project_id: int | str,
    min_role: str = Role.VIEWER,
    annotations: dict[str, Any] | None = None,
) -> Project:
    """The project if `user` holds at least `min_role` in it.

    Raises Http404 for outsiders (and unknown ids) and PermissionDenied (403) for members whose
    role is too low, e.g. a viewer trying to annotate. One query: the member's role comes with
    the project (a subquery), as do any extra `annotations` the caller asks for (the predict
    API fetches the current model version this way, see models_zoo.services.prediction).
    """
    extra: dict[str, Any] = dict(annotations or {})
    member = user.is_authenticated and not user.is_superuser
    if member:
        extra["_member_role"] = Subquery(
            Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
        )
    try:
        project = Project.objects.annotate(**extra).get(pk=int(project_id))
    except (Project.DoesNotExist, ValueError, TypeError):
        raise Http404("No such project.") from None
    return require_role(user, project, project._member_role if member else None, min_role)  # type: ignore[attr-defined]


def require_role(
    user: AbstractBaseUser | AnonymousUser, project: Project, member_role: str | None, min_role: str
) -> Project:
    """The rest of `get_project_for` once the project row (and, for a plain member, their role
    in it) is loaded: 404 for outsiders, 403 below `min_role`; sets `project.current_role`."""
    confined = confined_to(user)
    if confined is not None:
        role = confined[1] if confined[0] == project.pk else None
    elif user.is_authenticated and not user.is_superuser:
        role = member_role
    else:
        role = role_of(user, project)  # superuser: admin; anonymous: none (no query either way)
    if role is None:
        raise Http404("No such project.")
    if RANK[Role(role)] < RANK[Role(min_role)]:
        raise RoleRequired(project, role, min_role)
    project.current_role = role  # type: ignore[attr-defined]
    return project
