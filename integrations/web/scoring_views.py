"""Batch scoring in the browser: upload a file of texts, watch the jobs, download results."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from annotator.models import Role
from annotator.permissions import get_project_for
from config.enqueue import BrokerUnavailable
from integrations.models.scoring import ScoringJob, ScoringState
from integrations.scoring import service
from integrations.scoring.inputs import ScoringInputError
from models_zoo.models import ModelVersion


def _jobs_context(project) -> dict:
    service.expire_scoring_results()
    jobs = list(project.scoring_jobs.select_related("model_version")[:50])
    return {"project": project, "jobs": jobs, "poll": any(j.state == ScoringState.RUNNING for j in jobs)}


@login_required
@require_http_methods(["GET", "POST"])
def scoring_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.VIEWER)
    errors: list[dict] = []
    status = 200
    if request.method == "POST":
        try:
            job = service.start_scoring_job(
                project, request.FILES.get("file"), fmt=request.POST.get("format") or None,
                output_format=request.POST.get("output_format"),
                model_version=request.POST.get("model_version") or None, user=request.user,
            )
        except service.ScoringRequestError as exc:
            errors, status = [{"line": None, "message": f"{exc.field}: {exc.message}"}], exc.status
        except ScoringInputError as exc:
            errors, status = exc.errors, 400
        except BrokerUnavailable as exc:
            errors, status = [{"line": None, "message": str(exc)}], 503
        else:
            messages.success(request, f"Scoring {job.rows} texts with model version {job.model_version_id}.")
            return redirect("scoring", project_id=project.pk)
    versions = ModelVersion.objects.filter(project=project).order_by("-id").values("id", "backend", "is_current")
    context = {**_jobs_context(project), "errors": errors, "versions": list(versions)}
    return render(request, "integrations/scoring.html", context, status=status)


@login_required
def scoring_jobs_partial(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.VIEWER)
    context = _jobs_context(project)
    response = render(request, "integrations/partials/scoring_jobs.html", context)
    if request.htmx and not context["poll"]:
        response.status_code = 286  # htmx: stop polling, nothing is running any more
    return response


@login_required
def scoring_results(request: HttpRequest, project_id: int, job_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.VIEWER)
    service.expire_scoring_results()
    job = get_object_or_404(ScoringJob, pk=job_id, project=project)
    try:
        handle, content_type = service.open_results(job)
    except FileNotFoundError:
        raise Http404("These results do not exist (not finished, or expired).") from None
    return FileResponse(handle, content_type=content_type, as_attachment=True,
                        filename=f"scoring-{job.pk}-v{job.model_version_id}.{job.output_format}")


@login_required
@require_POST
def scoring_action(request: HttpRequest, project_id: int, job_id: int, action: str) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.VIEWER)
    job = get_object_or_404(ScoringJob, pk=job_id, project=project)
    if action == "cancel":
        service.cancel_scoring_job(job)
        messages.success(request, f"Cancelled scoring job {job.pk}.")
    elif action == "resume":
        try:
            service.resume_scoring_job(job)
            messages.success(request, f"Resumed scoring job {job.pk}.")
        except (service.ScoringRequestError, BrokerUnavailable) as exc:
            messages.error(request, str(exc))
    else:
        raise Http404("No such action.")
    return redirect("scoring", project_id=project.pk)
