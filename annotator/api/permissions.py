"""DRF permission classes for project-scoped endpoints, built on `annotator.permissions`.

A view names the URL keyword that carries the project id (`project_url_kwarg`, default
"project_id"). Outsiders and unknown ids get 404 whatever the class (a project's existence is
not disclosed); members whose role is too low get 403. The classes compose with `&` and `|`
(doccano style), e.g. `IsProjectAdmin | (IsProjectMember & ReadOnly)`, because only the 404 is
raised; role checks return False.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from annotator.models import Project, Role
from annotator.permissions import RANK, role_of


def project_for_view(request: Request, view: Any) -> Project:
    """The project named in the URL, cached on the view, with `current_role` set.

    Raises Http404 for anonymous callers, outsiders and unknown ids.
    """
    cached = getattr(view, "_vigia_project", None)
    if cached is not None:
        return cached
    kwarg = getattr(view, "project_url_kwarg", "project_id")
    try:
        project = Project.objects.get(pk=int(view.kwargs[kwarg]))
    except (Project.DoesNotExist, KeyError, ValueError, TypeError):
        raise Http404("No such project.") from None
    role = role_of(request.user, project)
    if role is None:
        raise Http404("No such project.")
    project.current_role = role  # type: ignore[attr-defined]
    view._vigia_project = project
    return project


class _ProjectRole(BasePermission):
    min_role: str = Role.VIEWER

    def has_permission(self, request: Request, view: Any) -> bool:
        project = project_for_view(request, view)
        return RANK[Role(project.current_role)] >= RANK[Role(self.min_role)]


class IsProjectMember(_ProjectRole):
    """Any role in the project (viewer, annotator, admin)."""

    min_role = Role.VIEWER
    message = "You are not a member of this project."


class IsProjectAnnotator(_ProjectRole):
    """Annotators and admins."""

    min_role = Role.ANNOTATOR
    message = "This needs the annotator or admin role in this project."


class IsProjectAdmin(_ProjectRole):
    """Project admins (and superusers)."""

    min_role = Role.ADMIN
    message = "This needs the admin role in this project."


class ReadOnly(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS


class MembersReadAdminsWrite(BasePermission):
    """Members may read; only admins may change. One class so the 403 message is specific."""

    message = "Only the project's admins can change this."

    def has_permission(self, request: Request, view: Any) -> bool:
        project = project_for_view(request, view)
        need = Role.VIEWER if request.method in SAFE_METHODS else Role.ADMIN
        return RANK[Role(project.current_role)] >= RANK[need]


class MembersReadAnnotatorsWrite(BasePermission):
    """Members may read; annotators and admins may write (their own annotations)."""

    message = "Viewers can read this project but not annotate it."

    def has_permission(self, request: Request, view: Any) -> bool:
        project = project_for_view(request, view)
        need = Role.VIEWER if request.method in SAFE_METHODS else Role.ANNOTATOR
        return RANK[Role(project.current_role)] >= RANK[need]
