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
from models_zoo.active_learning.queue_strategies import AL_STRATEGIES
from models_zoo.services.cold_start import effective_version, transfer_candidates
from models_zoo.services.queue_scores import strategy_in_force


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
        # Cold start (issue 18): one description per line; the hand-over strategy; a transfer
        # model version (empty: none).
        if "queue_query" in request.POST:
            changes["queue_query"] = [line.strip() for line in
                                      request.POST["queue_query"].splitlines() if line.strip()]
        if "queue_then" in request.POST:
            changes["queue_then"] = request.POST.get("queue_then", "")
        if "transfer_model_version" in request.POST:
            changes["transfer_model_version"] = request.POST.get("transfer_model_version", "").strip() or None
        try:
            update_project(project, actor=request.user, **changes)
        except ProjectRuleError as exc:
            error, status = exc, 400
            project.refresh_from_db()
        else:
            return redirect("queue-settings", project_id=project.pk)

    scored = Example.objects.filter(project=project, al_score__gte=0).count()
    driving, is_transfer = effective_version(project)
    ctx = {
        "then_choices": [name for name in AL_STRATEGIES if name != "query"],
        "transfer_choices": transfer_candidates(request.user, project) if is_admin else [],
        "driving_version": driving,
        "driving_is_transfer": is_transfer,
        "in_force": strategy_in_force(project),
        "queue_query_text": (request.POST.get("queue_query", "") if error is not None
                             else "\n".join(project.queue_query or [])),
        "project": project,
        "is_admin": is_admin,
        "strategies": [(cls.name, cls.description) for cls in STRATEGIES.values()],
        "labels": list(project.labels.values_list("name", flat=True)),
        "scored": scored,
        "error": error,
        "posted": request.POST if request.method == "POST" else {},
    }
    return render(request, "annotator/queue_settings.html", ctx, status=status)
