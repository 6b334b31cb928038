"""Project setup in the browser: new project, settings and labels, members, delete.

Thin pages over `annotator.services.projects` and `annotator.services.project_setup`: a
refused change re-renders the form with the service's message at the top of the page (status
400 for bad input, 409 for a conflict with the project's state), as the REST API answers.
"""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from annotator.models import Membership, Project, Role
from annotator.permissions import get_project_for
from annotator.services import project_setup
from annotator.services import projects as project_service
from annotator.services.project_settings import default_backend
from annotator.services.projects import ProjectRuleError
from annotator.web import project_forms as forms
from config import hooks


def _error(exc: ProjectRuleError) -> dict[str, str]:
    return {"field": exc.field, "message": exc.message}


def _status(exc: ProjectRuleError) -> int:
    return 409 if exc.conflict else 400


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest) -> HttpResponse:
    """Any signed-in user may create a project (as over REST) and becomes its admin."""
    post = request.POST if request.method == "POST" else None
    error = None
    rows: list[dict[str, Any]] | None = None
    if post is not None:
        label_rows = forms.parse_label_rows(post)
        try:
            fields = forms.parse_settings(post)
            if not fields.get("retrain_backend"):  # "the default for the task type"

                fields["retrain_backend"] = default_backend(post.get("task_type", ""))
            project = project_service.create_project(
                creator=request.user, name=post.get("name", ""),
                task_type=post.get("task_type", ""), labels=forms.label_specs(label_rows), **fields,
            )
        except ProjectRuleError as exc:
            error = _error(exc)
            rows = [{"id": None, "name": r.name, "shortcut": r.shortcut, "color": r.color} for r in label_rows]
        else:
            messages.success(request, f"Created project {project.name}. Import examples below.")
            return redirect("project-detail", project_id=project.pk)
    context = {
        "project": None, "error": error, "values": forms.settings_values(None, post),
        "label_rows": rows or project_setup.label_rows(None, forms.BLANK_LABEL_ROWS),
        **forms.choices(None),
    }
    return render(request, "annotator/project_setup.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    post = request.POST if request.method == "POST" else None
    error = None
    status = 200
    if post is not None:
        try:
            changes = forms.parse_settings(post)
            for key in ("name", "task_type"):
                if key in post:
                    changes[key] = post.get(key, "")
            project_setup.save_project_setup(project, changes, forms.parse_label_rows(post))
        except ProjectRuleError as exc:
            error, status = _error(exc), _status(exc)
            project = get_project_for(request.user, project_id, Role.ADMIN)
        else:
            messages.success(request, "Saved the project settings.")
            return redirect("project-edit", project_id=project.pk)
    context = {
        "project": project, "error": error, "values": forms.settings_values(project, post),
        "label_rows": project_setup.label_rows(project, 2),
        "label_names": list(project.labels.values_list("name", flat=True)),
        **forms.choices(project.task_type),
    }
    return render(request, "annotator/project_setup.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def project_members(request: HttpRequest, project_id: int) -> HttpResponse:
    """Members and roles; admins add by username, change roles and remove (POST `action`)."""
    min_role = Role.ADMIN if request.method == "POST" else Role.VIEWER
    project = get_project_for(request.user, project_id, min_role)
    error = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "add":
                user = project_setup.find_user(request.POST.get("username", ""))
                role = request.POST.get("role", Role.ANNOTATOR)
                project_service.add_member(project, user, role)
                done = f"Added {user.get_username()} as {role}."
            else:
                membership = get_object_or_404(Membership, pk=request.POST.get("member") or 0, project=project)
                name = membership.user.get_username()
                if action == "role":
                    project_service.change_role(membership, request.POST.get("role", ""))
                    done = f"{name} is now {membership.role}."
                elif action == "remove":
                    project_service.remove_member(membership)
                    done = f"Removed {name} from the project."
                else:
                    raise ProjectRuleError(f"unknown action {action!r}.", "action")
        except ProjectRuleError as exc:
            error, status = _error(exc), _status(exc)
        else:
            messages.success(request, done)
            if not Membership.objects.filter(project=project, user=request.user).exists() and not request.user.is_superuser:
                return redirect("project-list")  # removed themselves
            return redirect("project-members", project_id=project.pk)
    context = {
        "project": project, "error": error, "is_admin": project.current_role == Role.ADMIN,
        "members": project.memberships.select_related("user").order_by("id"),
        "roles": Role.choices, "username": request.POST.get("username", "") if error else "",
    }
    return render(request, "annotator/project_members.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def project_delete(request: HttpRequest, project_id: int) -> HttpResponse:
    """A confirmation page: the project is deleted only when its name is typed exactly."""
    project = get_project_for(request.user, project_id, Role.ADMIN)
    error = None
    if request.method == "POST":
        try:
            project_setup.delete_project(project, confirm_name=request.POST.get("confirm_name", ""))
        except ProjectRuleError as exc:
            error = _error(exc)
        else:
            messages.success(request, f"Deleted project {project.name} and all its data.")
            return redirect("project-list")
    counts = project_service.project_counts([project.pk])[project.pk]
    context = {
        "project": project, "error": error, "counts": counts,
        "versions": hooks.call("model_version_count", project),
        "members": Project.objects.get(pk=project.pk).memberships.count(),
    }
    return render(request, "annotator/project_delete.html", context, status=400 if error else 200)
