"""Mining pages for project admins: the form and runs, one run (S_an histogram, proposals,
per-band confirmation figures), and the negatives experiment (table and plot)."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from annotator.mining.algorithm import MiningError
from annotator.mining.proposals import band_figures, serve_in_queue
from annotator.mining.svg import SETTING_NAMES, experiment_svg, histogram_svg
from annotator.models import Role
from annotator.models_mining import MiningRun, MiningState, NegativesExperiment
from annotator.permissions import get_project_for
from models_zoo.mining.experiment_service import create_experiment, experiment_payload
from models_zoo.mining.service import create_mining_run

HTMX_STOP_POLLING = 286
FIELDS = ("label", "band", "tails", "n", "p", "seed", "dedupe_threshold", "mode")
EXPERIMENT_FIELDS = ("label", "group_field", "seeds", "n_train_positives", "test_ratio", "p")


def _page(request: HttpRequest, project, error: MiningError | None = None,
          experiment_error: MiningError | None = None, status: int = 200) -> HttpResponse:
    runs = MiningRun.objects.filter(project=project)
    ctx = {
        "project": project,
        "labels": list(project.labels.all()),
        "runs": runs[:50],
        "bands": band_figures(runs),
        "experiments": NegativesExperiment.objects.filter(project=project)[:20],
        "error": error,
        "experiment_error": experiment_error,
        "posted": request.POST if request.method == "POST" else {},
    }
    return render(request, "annotator/mining.html", ctx, status=status)


@login_required
def mining_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """GET: the form, the runs and the per-band figures. POST: start a mining run."""
    project = get_project_for(request.user, project_id, Role.ADMIN)
    if request.method != "POST":
        return _page(request, project)
    data = {k: request.POST.get(k) for k in FIELDS}
    try:
        run = create_mining_run(project, request.user, data)
    except MiningError as exc:
        return _page(request, project, error=exc, status=400)
    return redirect("mining-run", project_id=project.pk, run_id=run.pk)


def _run_for(request: HttpRequest, project_id: int, run_id: int) -> MiningRun:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    run = MiningRun.objects.filter(pk=run_id, project=project).first()
    if run is None:
        raise Http404("No such mining run.")
    run.project = project
    return run


@login_required
def mining_run_page(request: HttpRequest, project_id: int, run_id: int) -> HttpResponse:
    run = _run_for(request, project_id, run_id)
    running = run.state in (MiningState.QUEUED, MiningState.RUNNING)
    ctx = {
        "project": run.project,
        "run": run,
        "running": running,
        "svg": mark_safe(histogram_svg(run.histogram, run.mu, run.sigma, run.band, run.tails)),
        "proposals": run.proposals.select_related("example", "decided_by").order_by("-s_an", "id")[:200],
        "bands": band_figures(MiningRun.objects.filter(pk=run.pk)),
        "sigma_limits": [
            (k, run.mu + (k - 1) * run.sigma, run.mu + k * run.sigma) for k in (1, 2, 3)
        ] if run.mu is not None and run.sigma else [],
    }
    if request.htmx and request.GET.get("poll"):
        response = render(request, "annotator/partials/mining_state.html", ctx)
        if not running:
            response.status_code = HTMX_STOP_POLLING
            response["HX-Refresh"] = "true"
        return response
    return render(request, "annotator/mining_run.html", ctx)


@login_required
@require_POST
def mining_serve(request: HttpRequest, project_id: int, run_id: int) -> HttpResponse:
    run = _run_for(request, project_id, run_id)
    if run.state == MiningState.SUCCEEDED and run.mode == "propose":
        serve_in_queue(run)
        messages.success(request, f"The annotate queue now serves run {run.pk}'s proposals.")
    else:
        messages.error(request, "Only a succeeded run in propose mode can serve the queue.")
    return redirect("mining-run", project_id=run.project.pk, run_id=run.pk)


@login_required
@require_POST
def experiment_start(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    data = {k: request.POST.get(k) for k in EXPERIMENT_FIELDS}
    try:
        experiment = create_experiment(project, request.user, data)
    except MiningError as exc:
        return _page(request, project, experiment_error=exc, status=400)
    return redirect("mining-experiment", project_id=project.pk, experiment_id=experiment.pk)


@login_required
def experiment_page(request: HttpRequest, project_id: int, experiment_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    experiment = NegativesExperiment.objects.filter(pk=experiment_id, project=project).first()
    if experiment is None:
        raise Http404("No such experiment.")
    body = experiment_payload(experiment)
    summary = [{**row, "name": SETTING_NAMES.get(row["setting"], row["setting"])} for row in body["summary"]]
    running = experiment.state in (MiningState.QUEUED, MiningState.RUNNING)
    ctx = {
        "project": project, "experiment": experiment, "summary": summary, "groups": body["groups"],
        "running": running, "svg": mark_safe(experiment_svg(body["summary"])),
    }
    response = render(request, "annotator/mining_experiment.html", ctx)
    return response
