"""Project pages: the list (progress per project and per annotator), the project page (counts,
label distribution, guidelines, import form) and the import job status partial."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from annotator.models import ImportJob, ImportStatus, Membership, Role
from annotator.permissions import RANK, get_project_for, visible_projects
from annotator.services import progress
from annotator.web.forms import ImportForm

# htmx stops polling when a response has this status.
HTMX_STOP_POLLING = 286


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    projects = list(visible_projects(request.user).order_by("name", "id"))
    counts = progress.project_counts(projects)
    roles = dict(
        Membership.objects.filter(user=request.user).values_list("project_id", "role")
    )
    rows = [
        {
            "project": p,
            "counts": counts[p.pk],
            "role": Role.ADMIN if request.user.is_superuser else roles.get(p.pk),
        }
        for p in projects
    ]
    for row in rows:
        row["can_annotate"] = RANK[Role(row["role"])] >= RANK[Role.ANNOTATOR]
    return render(request, "annotator/project_list.html", {"rows": rows})


def _detail_context(request: HttpRequest, project, form: ImportForm | None = None) -> dict:
    role = project.current_role
    return {
        "project": project,
        "role": role,
        "is_admin": role == Role.ADMIN,
        "can_annotate": RANK[Role(role)] >= RANK[Role.ANNOTATOR],
        "counts": progress.project_counts([project])[project.pk],
        "distribution": progress.label_distribution(project),
        "labels": list(project.labels.all()),
        "form": form or ImportForm(),
        "jobs": [
            (job, job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING))
            for job in project.import_jobs.order_by("-id")[:5]
        ],
        "export_formats": ["jsonl", "csv", "conll"],
    }


@login_required
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id)
    return render(request, "annotator/project_detail.html", _detail_context(request, project))


@login_required
@require_POST
def project_import(request: HttpRequest, project_id: int) -> HttpResponse:
    """Import a file: small files in the request, large ones as a Celery job with progress.

    Errors are the importer's own `[{"line", "message"}]`, the same the REST API returns.
    """
    # The importer belongs to another area; imported here so this module loads without it.
    from annotator.importers import ImportFailed, import_file
    from annotator.importers.jobs import should_import_async, start_import_job

    project = get_project_for(request.user, project_id, Role.ADMIN)
    form = ImportForm(request.POST, request.FILES)
    errors: list[dict] = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        fmt, mapping = form.cleaned_data["format"], form.cleaned_data["mapping"]
        if should_import_async(upload):
            job = start_import_job(project, upload, fmt, mapping=mapping, user=request.user)
            messages.info(request, f"Importing {upload.name} in the background (job {job.pk}).")
            return redirect("project-detail", project_id=project.pk)
        try:
            result = import_file(project, upload, fmt, mapping=mapping, user=request.user)
        except ImportFailed as exc:
            errors = list(exc.errors)
        else:
            messages.success(
                request,
                f"Imported {result.imported} examples ({result.duplicates} duplicates skipped).",
            )
            return redirect("project-detail", project_id=project.pk)
    ctx = _detail_context(request, project, form)
    ctx["import_errors"] = errors
    return render(request, "annotator/project_detail.html", ctx, status=400)


@login_required
def import_job_status(request: HttpRequest, project_id: int, job_id: int) -> HttpResponse:
    """The progress row of one import job; htmx polls it until the job finishes."""
    project = get_project_for(request.user, project_id)
    job = get_object_or_404(ImportJob, pk=job_id, project=project)
    finished = job.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)
    status = HTMX_STOP_POLLING if finished and request.htmx else 200
    return render(
        request,
        "annotator/partials/import_job.html",
        {"job": job, "project": project, "poll": not finished},
        status=status,
    )



