"""Pages added by issue 13: promotion with a confirmation, versions side by side, the attention
view of an attention_bilstm version, and the embedding map. Views stay thin: the services in
models_zoo.services.promotion / explain and annotator.services.embedding_map decide."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from annotator.models import Example, Role
from annotator.permissions import get_project_for
from config.enqueue import BrokerUnavailable
from config.inputs import InvalidInput, parse_int
from config.resilience import broker_message
from models_zoo.metric_names import metric_columns
from models_zoo.models import ModelVersion
from models_zoo.services.embedding_map import MapUnavailable, map_points, request_map
from models_zoo.services.explain import explain_examples
from models_zoo.services.promotion import (
    PromotionNeedsConfirmation,
    promote_reviewed,
    review_promotion,
)
from models_zoo.services.versions import comparison_rows, split_warning
from models_zoo.web.prediction_refresh import promotion_message, refresh_context
from models_zoo.web.version_plots import loss_plot, pr_roc_plots

EXPLAIN_EXAMPLES = 10


def _version_or_404(version_id: int) -> ModelVersion:
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise Http404("No such model version.")
    return version


@login_required
@require_http_methods(["GET", "POST"])
def promote(request: HttpRequest, version_id: int) -> HttpResponse:
    """GET: the confirm page (metric changes against the current version, warnings and their
    rule). POST with confirm=1: promote (warnings then count as confirmed)."""
    version = _version_or_404(version_id)
    project = get_project_for(request.user, version.project_id, Role.ADMIN)
    if request.method == "POST" and request.POST.get("confirm") in {"1", "true", "on"}:
        previous = ModelVersion.objects.filter(project=project, is_current=True).first()
        try:
            promoted = promote_reviewed(version, confirm=True)
        except PromotionNeedsConfirmation:  # pragma: no cover - confirm=True never raises
            promoted = version
        # Say what happened; the versions page then shows the prediction refresh live.
        messages.success(request, promotion_message(project, promoted, previous))
        url = reverse("models-versions", args=[project.pk])
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    review = review_promotion(version)
    return render(request, "models_zoo/promote_confirm.html",
                  {"project": project, "version": version, "review": review},
                  status=200 if request.method == "GET" else 400)


@login_required
@require_GET
def prediction_refresh(request: HttpRequest, project_id: int) -> HttpResponse:
    """The prediction refresh after a promotion (htmx partial, polled; 286 once it is over)."""
    project = get_project_for(request.user, project_id, Role.VIEWER)
    refresh = refresh_context(project)
    status = 286 if request.htmx and not refresh["running"] else 200  # type: ignore[attr-defined]
    return render(request, "models_zoo/_prediction_refresh.html", {"refresh": refresh}, status=status)


@login_required
@require_GET
def compare(request: HttpRequest, project_id: int) -> HttpResponse:
    """Two or more versions side by side: the metrics table and their curves overlaid
    (?v=1&v=2...; none or one picked: the latest versions)."""
    project = get_project_for(request.user, project_id, Role.VIEWER)
    all_versions = list(ModelVersion.objects.filter(project=project).order_by("-id"))
    picked: list[int] = []
    for raw in request.GET.getlist("v"):
        try:
            picked.append(parse_int(raw, "v"))
        except InvalidInput:
            pass  # not a version id: the latest versions are shown instead
    chosen = [v for v in all_versions if v.pk in picked]
    if len(chosen) < 2:
        extra = [v for v in all_versions if v not in chosen]
        chosen = (chosen + extra)[:max(2, len(chosen))]
    labels = list(project.labels.values_list("name", flat=True))
    return render(request, "models_zoo/compare.html", {
        "project": project, "all_versions": all_versions, "versions": chosen,
        "chosen_ids": [v.pk for v in chosen], "labels": labels,
        "rows": comparison_rows(chosen, labels, project.task_type), "split_warning": split_warning(chosen),
        **metric_columns(project.task_type, labels),
        "curves": pr_roc_plots(chosen, labels, name_by_version=True, id_prefix="compare-"),
        "loss": loss_plot(chosen, id_prefix="compare-"),
    })


@login_required
@require_GET
def explain(request: HttpRequest, version_id: int) -> HttpResponse:
    """Words shaded by the attention weight of an attention_bilstm version (seed 004), on the
    example ?example=<id>, else the project's first examples."""
    version = _version_or_404(version_id)
    project = get_project_for(request.user, version.project_id, Role.VIEWER)
    if version.backend != "attention_bilstm":
        raise Http404("Only attention_bilstm versions have attention weights.")
    examples = Example.objects.filter(project=project).order_by("id")
    raw = request.GET.get("example", "").strip()
    error = ""
    if raw:
        try:
            examples = examples.filter(pk=parse_int(raw, "example", lo=1))
        except InvalidInput:
            error = f"example must be an example id, got {raw!r}"
            examples = examples.none()
        if not error and not examples.exists():
            error = f"example {raw} is not in this project"
    rows = explain_examples(version, project, list(examples[:EXPLAIN_EXAMPLES]))
    return render(request, "models_zoo/explain.html",
                  {"project": project, "version": version, "rows": rows, "error": error},
                  status=400 if error else 200)


MAP_W, MAP_H, MAP_PAD = 720, 520, 14


@login_required
@require_http_methods(["GET", "POST"])
def embedding_map(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project's stored vectors laid out in 2-D (PCA 50 then UMAP), coloured by gold label
    or prediction (?colour=gold|prediction); POST starts the map job."""
    project = get_project_for(request.user, project_id, Role.VIEWER if request.method == "GET" else Role.ANNOTATOR)
    error, status = "", 200
    if request.method == "POST":
        try:
            request_map(project)
        except MapUnavailable as exc:
            error, status = str(exc), 400
        except BrokerUnavailable as exc:
            error, status = broker_message(exc), 503
        if not error:
            return redirect(reverse("models-map", args=[project.pk]))
    colour = request.GET.get("colour", "gold")
    if colour not in {"gold", "prediction"}:
        colour = "gold"
    data = map_points(project, colour)
    for p in data["points"]:
        p["cx"] = round(MAP_PAD + p["x"] * (MAP_W - 2 * MAP_PAD), 1)
        p["cy"] = round(MAP_PAD + (1 - p["y"]) * (MAP_H - 2 * MAP_PAD), 1)
    return render(request, "models_zoo/embedding_map.html", {
        "project": project, "colour": colour, "error": error, "width": MAP_W, "height": MAP_H, **data,
    }, status=status)
