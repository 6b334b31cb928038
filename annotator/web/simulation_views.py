"""Simulation pages (project admins): the form and past simulations; one simulation's plot
(F1 against labels per strategy) and table. Same service as the REST API."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from annotator.active_learning.simulation import SIMULATION_STRATEGIES
from annotator.models import Role
from annotator.models_simulation import Simulation, SimulationState
from annotator.permissions import get_project_for
from annotator.services.simulations import DEFAULTS, SimulationError, create_simulation

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
    return data


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
        else:
            return redirect("simulation", project_id=project.pk, simulation_id=simulation.pk)
    ctx = {"project": project, "error": error, "posted": posted,
           "strategies": SIMULATION_STRATEGIES,
           "labels": list(project.labels.values_list("name", flat=True)),
           "simulations": Simulation.objects.filter(project=project)[:50]}
    return render(request, "annotator/simulations.html", ctx, status=status)


@login_required
def simulation_page(request: HttpRequest, project_id: int, simulation_id: int) -> HttpResponse:
    from models_zoo.web.learning_svg import curve_svg

    project = get_project_for(request.user, project_id, Role.ADMIN)
    simulation = Simulation.objects.filter(pk=simulation_id, project=project).first()
    if simulation is None:
        raise Http404("No such simulation.")
    running = simulation.state in (SimulationState.QUEUED, SimulationState.RUNNING)
    result = simulation.result or {}
    curves = result.get("curves", {})
    rows = [{"strategy": name, "aulc": result.get("aulc", {}).get(name),
             "labels_to_95": result.get("labels_to_95", {}).get(name),
             "final": points[-1] if points else None} for name, points in curves.items()]
    ctx = {"project": project, "simulation": simulation, "running": running, "rows": rows,
           "curves": curves, "full_f1": result.get("full_f1"),
           "svg": curve_svg({name: [(p["labels"], p["f1_mean"]) for p in points]
                             for name, points in curves.items()}, css_class="simulation-curve")}
    if request.htmx and request.GET.get("poll"):
        response = render(request, "annotator/partials/simulation_state.html", ctx)
        if not running:
            response.status_code = HTMX_STOP_POLLING
            response["HX-Refresh"] = "true"
        return response
    return render(request, "annotator/simulation.html", ctx)
