"""Pages of training runs and model versions (Django templates + htmx, function-based views).

Members read, project admins write, outsiders get 404 (annotator.permissions). htmx requests get
the named partial; the live progress partial answers 286 once the run is finished, which tells
htmx to stop polling.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotator.models import Project, Role
from annotator.permissions import RANK, get_project_for, visible_projects
from annotator.services.projects import ProjectRuleError
from models_zoo import registry
from models_zoo.metric_names import metric_columns
from models_zoo.models import ModelVersion, TrainingRun
from models_zoo.services.catalog import backend_catalog
from models_zoo.services.learning_curve import learning_context
from models_zoo.services.policy import update_policy
from models_zoo.services.training import (
    TrainingRequestError,
    cancel_run,
    reap_stale_runs,
    start_training_run,
)
from models_zoo.services.training_defaults import with_project_defaults
from models_zoo.services.versions import comparison_rows, split_warning
from models_zoo.thresholds import OBJECTIVES
from models_zoo.web.config_form import (
    conditional_css,
    config_from_form,
    field_groups,
    fields_from_schema,
    suggest_checkpoints,
)
from models_zoo.web.learning_svg import learning_curve_svg
from models_zoo.web.prediction_refresh import refresh_context
from models_zoo.web.version_page import (
    training_defaults_form_values,
    training_defaults_from_form,
    version_context,
)
from models_zoo.web.version_plots import loss_plot

HTMX_STOP_POLLING = 286


def _is_admin(project: Project) -> bool:
    return RANK[Role(project.current_role)] >= RANK[Role.ADMIN]  # type: ignore[attr-defined]


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_GET
def project_picker(request: HttpRequest) -> HttpResponse:
    projects = visible_projects(request.user).order_by("name", "id").distinct()
    return render(request, "models_zoo/project_picker.html", {"projects": projects})


def _backend_choice(catalog: list[dict[str, Any]], wanted: str | None, project: Project) -> dict[str, Any] | None:
    usable = [b for b in catalog if project.task_type in b["task_types"]]
    for name in (wanted, project.retrain_backend, "embedding_head"):
        for backend in usable:
            if backend["name"] == name:
                return backend
    return usable[0] if usable else None


def _runs_context(request: HttpRequest, project: Project, backend_name: str | None,
                  values: dict[str, Any] | None = None, error: TrainingRequestError | None = None) -> dict[str, Any]:
    catalog = backend_catalog()
    chosen = _backend_choice(catalog, backend_name, project)
    if values is None and chosen is not None:
        # Pre-fill the project's training defaults, so the form shows (and submits) what applies.
        values = with_project_defaults(project, registry.get_backend(chosen["name"]), {})
    fields = fields_from_schema(chosen["config_schema"], values) if chosen else []
    if chosen is not None:
        suggest_checkpoints(fields, registry.get_backend(chosen["name"]))
    return {
        "project": project,
        "is_admin": _is_admin(project),
        "runs": TrainingRun.objects.filter(project=project).order_by("-id")[:100],
        "backends": [b for b in catalog if project.task_type in b["task_types"]],
        "backend": chosen,
        "fields": fields,
        "field_groups": field_groups(fields),
        "conditional_css": conditional_css(fields),
        "error": error,
    }


@login_required
@require_GET
def runs_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.VIEWER)
    reap_stale_runs(project=project)
    context = _runs_context(request, project, request.GET.get("backend"))
    return render(request, "models_zoo/runs.html", context)


@login_required
@require_GET
def config_fields(request: HttpRequest, project_id: int) -> HttpResponse:
    """The config fields of the chosen backend (htmx partial; a full page without htmx)."""
    project = get_project_for(request.user, project_id, Role.ADMIN)
    if not request.htmx:  # type: ignore[attr-defined]
        url = reverse("models-runs", args=[project.pk]) + "?backend=" + request.GET.get("backend", "")
        return redirect(url)
    context = _runs_context(request, project, request.GET.get("backend"))
    return render(request, "models_zoo/_config_fields.html", context)


@login_required
@require_POST
def start_run(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    backend_name = request.POST.get("backend", "")
    catalog = {b["name"]: b for b in backend_catalog()}
    schema = (catalog.get(backend_name) or {}).get("config_schema") or {}
    config = config_from_form(schema, request.POST)
    try:
        run = start_training_run(project, backend_name, config, request.user, require_queue=True)
    except TrainingRequestError as exc:
        context = _runs_context(request, project, backend_name, values=config, error=exc)
        return render(request, "models_zoo/runs.html", context, status=exc.status)
    return _redirect(request, reverse("models-run", args=[run.pk]))


def _run_for(request: HttpRequest, run_id: int, min_role: str) -> tuple[TrainingRun, Project]:
    run = get_object_or_404(TrainingRun, pk=run_id)
    project = get_project_for(request.user, run.project_id, min_role)
    reap_stale_runs(project=project)
    run.refresh_from_db()
    return run, project


def _run_context(run: TrainingRun, project: Project) -> dict[str, Any]:
    version = ModelVersion.objects.filter(run=run).first()
    return {
        "run": run, "project": project, "is_admin": _is_admin(project), "version": version,
        "percent": round(run.progress * 100), "log_tail": run.log.splitlines()[-30:],
    }


@login_required
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run, project = _run_for(request, run_id, Role.VIEWER)
    context = _run_context(run, project)
    # Issue 13: the run's per-epoch loss, from its version's recorded history.
    context["loss"] = loss_plot([context["version"]]) if context["version"] else {"svg": None}
    return render(request, "models_zoo/run_detail.html", context)


@login_required
@require_GET
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The live progress partial; 286 once finished so htmx stops polling."""
    run, project = _run_for(request, run_id, Role.VIEWER)
    status = HTMX_STOP_POLLING if run.is_finished and request.htmx else 200  # type: ignore[attr-defined]
    return render(request, "models_zoo/_run_progress.html", _run_context(run, project), status=status)


@login_required
@require_POST
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run, _project = _run_for(request, run_id, Role.ADMIN)
    try:
        cancel_run(run, force=request.POST.get("force") == "1")
    except TrainingRequestError:
        pass  # already finished: the detail page shows its final state
    return _redirect(request, reverse("models-run", args=[run.pk]))


def _versions_context(project: Project, policy_errors: dict[str, str] | None = None,
                      values: dict[str, str] | None = None) -> dict[str, Any]:
    labels = list(project.labels.values_list("name", flat=True))
    versions = list(ModelVersion.objects.filter(project=project).order_by("-id"))
    learning = learning_context(project, versions, labels)
    return {
        "project": project, "is_admin": _is_admin(project), "labels": labels,
        "rows": comparison_rows(versions, labels, project.task_type),
        **metric_columns(project.task_type, labels),
        "split_warning": split_warning(versions),
        "defaults": values or training_defaults_form_values(project),
        "objectives": OBJECTIVES,
        # Issue 9: learning curve (server SVG) and the stopping hint.
        "learning": learning,
        "learning_svg": learning_curve_svg(learning["curve"], labels, project.task_type),
        "backends": [b["name"] for b in backend_catalog() if project.task_type in b["task_types"]],
        "policy_errors": policy_errors or {},
        "refresh": refresh_context(project),
    }


@login_required
@require_GET
def versions_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.VIEWER)
    return render(request, "models_zoo/versions.html", _versions_context(project))


@login_required
@require_GET
def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    """One version: validation split, threshold objective, per-label thresholds and metrics,
    and each label's validation curve with the chosen threshold marked."""
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise Http404("No such model version.")
    project = get_project_for(request.user, version.project_id, Role.VIEWER)
    return render(request, "models_zoo/version_detail.html", version_context(version, project, _is_admin(project)))


@login_required
@require_POST
def policy_settings(request: HttpRequest, project_id: int) -> HttpResponse:
    """Retrain policy (every N human annotations; empty or 0 = off) and auto-promote."""
    project = get_project_for(request.user, project_id, Role.ADMIN)
    # The rules live in the project service (annotator.services.project_settings), the same
    # ones PATCH /api/v1/projects/{id} applies.
    defaults, errors = training_defaults_from_form(project, request.POST)
    if not errors:
        try:
            update_policy(
                project, retrain_every=request.POST.get("retrain_every", ""),
                retrain_backend=request.POST.get("retrain_backend", project.retrain_backend).strip(),
                auto_promote=request.POST.get("auto_promote") in {"on", "true", "1"}, **defaults,
            )
        except ProjectRuleError as exc:
            errors[exc.field] = exc.message
    if errors:
        project.refresh_from_db()
        values = {k: request.POST.get(k, "") for k in ("threshold_objective", "threshold_targets", "validation_split")}
        return render(request, "models_zoo/versions.html", _versions_context(project, errors, values), status=400)
    return _redirect(request, reverse("models-versions", args=[project.pk]))
