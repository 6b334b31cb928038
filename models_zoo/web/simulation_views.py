"""Simulation pages (project admins): the form (strategies, sizes, prevalence, starts, target
F1) and past simulations; one simulation's plots (F1 against labels per strategy, one plot per
start) and per-label figures with their spread over seeds. Same service as the REST API."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from annotator.models import Role
from annotator.models_simulation import Simulation, SimulationState
from annotator.permissions import get_project_for
from config.enqueue import BrokerUnavailable
from models_zoo.active_learning.simulation import SIMULATION_STRATEGIES
from models_zoo.services.cold_start import transfer_candidates
from models_zoo.services.simulations import (
    DEFAULTS,
    SimulationError,
    create_simulation,
    start_name,
)
from models_zoo.web.learning_svg import curve_svg

HTMX_STOP_POLLING = 286
INT_FIELDS = ("n0", "batch", "rounds", "seeds")


def _form_data(post) -> dict:
    data: dict = {"strategies": post.getlist("strategies")}
    for key in INT_FIELDS:
        raw = post.get(key, "")
        try:
            data[key] = int(raw)
        except ValueError:
            data[key] = raw  # the service names the field
    try:
        data["test_fraction"] = float(post.get("test_fraction", ""))
    except ValueError:
        data["test_fraction"] = post.get("test_fraction")
    if post.get("label"):
        data["label"] = post["label"]
    for key in ("prevalence", "target_f1"):
        raw = post.get(key, "").strip()
        if raw:
            try:
                data[key] = float(raw)
            except ValueError:
                data[key] = raw  # the service names the field
    starts: list = []
    if post.get("start_random"):
        starts.append("random")
    query = [line.strip() for line in post.get("start_query", "").splitlines() if line.strip()]
    if query:
        starts.append({"query": query})
    version = post.get("start_model_version", "").strip()
    if version:
        starts.append({"model_version": int(version) if version.isdigit() else version})
    keywords = [w.strip() for w in post.get("start_keywords", "").split(",") if w.strip()]
    if keywords:
        starts.append({"keywords": keywords})
    data["start"] = starts[0] if len(starts) == 1 else (starts or "random")
    return data


def _form_values(posted: dict) -> dict:
    """What the form shows again: the posted values (a refused submit loses nothing)."""
    starts = posted.get("start", "random")
    starts = starts if isinstance(starts, list) else [starts]
    kinds = {(s if isinstance(s, str) else next(iter(s))): s for s in starts}
    return {**posted, "start_random": "random" in kinds,
            "start_query": "\n".join(kinds.get("query", {}).get("query", [])) if "query" in kinds else "",
            "start_keywords": ", ".join(kinds["keywords"]["keywords"]) if "keywords" in kinds else "",
            "start_model_version": kinds["model_version"]["model_version"] if "model_version" in kinds else None}


@login_required
def simulations_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)

    error, status, posted = None, 200, DEFAULTS
    if request.method == "POST":
        posted = _form_data(request.POST)
        try:
            simulation = create_simulation(project, request.user, posted)
        except SimulationError as exc:
            error, status = exc, 400
        except BrokerUnavailable as exc:
            error, status = SimulationError("queue", str(exc)), 503
        else:
            return redirect("simulation", project_id=project.pk, simulation_id=simulation.pk)
    ctx = {"project": project, "error": error, "posted": _form_values(posted),
           "model_versions": transfer_candidates(request.user, project),
           "strategies": SIMULATION_STRATEGIES,
           "labels": list(project.labels.values_list("name", flat=True)),
           "simulations": Simulation.objects.filter(project=project)[:50]}
    return render(request, "annotator/simulations.html", ctx, status=status)


@login_required
def simulation_page(request: HttpRequest, project_id: int, simulation_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    simulation = Simulation.objects.filter(pk=simulation_id, project=project).first()
    if simulation is None:
        raise Http404("No such simulation.")
    running = simulation.state in (SimulationState.QUEUED, SimulationState.RUNNING)
    result = simulation.result or {}
    curves = result.get("curves", {})
    starts = []
    for start in result.get("starts", []):
        per = start["strategies"]
        starts.append({
            "name": start_name(start["start"]), "start": start["start"],
            "start_positives": start.get("start_positives"),
            "svg": curve_svg({name: [(p["labels"], p["f1_mean"]) for p in f["overall"]["curve"]]
                              for name, f in per.items()}, css_class="simulation-curve"),
            "rows": [{"strategy": name, "label": label, **figures}
                     for label in result.get("labels", [])
                     for name, f in per.items() for figures in [f["per_label"][label]]],
        })
    ctx = {"project": project, "simulation": simulation, "running": running, "starts": starts,
           "curves": curves, "full_f1": result.get("full_f1"), "result": result,
           "multi_label": len(result.get("labels", [])) > 1}
    if request.htmx and request.GET.get("poll"):
        response = render(request, "annotator/partials/simulation_state.html", ctx)
        if not running:
            response.status_code = HTMX_STOP_POLLING
            response["HX-Refresh"] = "true"
        return response
    return render(request, "annotator/simulation.html", ctx)
