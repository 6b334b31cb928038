"""The queue settings page: the project's strategy (with descriptions) and the queue label;
admins change them here, members see them (same service as PATCH /projects/{id}/)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from annotator.models import Example, Role
from annotator.permissions import RANK, get_project_for
from annotator.services.projects import ProjectRuleError, update_project
from annotator.services.queue_strategies import STRATEGIES


@login_required
def queue_settings(request: HttpRequest, project_id: int) -> HttpResponse:
    """GET: the strategies and the current choice. POST (admins): change them."""
    project = get_project_for(request.user, project_id)
    is_admin = RANK[Role(project.current_role)] >= RANK[Role.ADMIN]
    error, status = None, 200
    if request.method == "POST":
        project = get_project_for(request.user, project_id, Role.ADMIN)
        changes = {
            "queue_strategy": request.POST.get("queue_strategy", ""),
            "queue_label": request.POST.get("queue_label", ""),
        }
        try:
            update_project(project, **changes)
        except ProjectRuleError as exc:
            error, status = exc, 400
            project.refresh_from_db()
        else:
            return redirect("queue-settings", project_id=project.pk)
    scored = Example.objects.filter(project=project, al_score__gte=0).count()
    ctx = {
        "project": project,
        "is_admin": is_admin,
        "strategies": [(cls.name, cls.description) for cls in STRATEGIES.values()],
        "labels": list(project.labels.values_list("name", flat=True)),
        "scored": scored,
        "error": error,
        "posted": request.POST if request.method == "POST" else {},
    }
    return render(request, "annotator/queue_settings.html", ctx, status=status)
