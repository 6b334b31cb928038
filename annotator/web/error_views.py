"""The refused page (403): styled like the 404 and 500 pages, says what is missing and offers a
way back. Django calls `permission_denied` (config.urls.handler403) for every PermissionDenied a
page raises; a failed CSRF check renders templates/403_csrf.html (Django's own view, by name)."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotator.models import Role
from annotator.permissions import RoleRequired


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 with the project and the roles when a member's role is too low (RoleRequired); a
    plain sentence otherwise (the message of other PermissionDenied errors is not shown: it may
    be written for developers)."""
    context: dict[str, object] = {}
    if isinstance(exception, RoleRequired):
        context = {
            "project": exception.project,
            "role": Role(exception.role).label.lower(),
            "needed": Role(exception.needed).label.lower(),
        }
    return render(request, "403.html", context, status=403)
