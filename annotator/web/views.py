"""Project pages: the list (progress per project and per annotator), the project page (counts,
label distribution, guidelines, import form) and the import job status partial."""
from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from annotator.importers import ImportFailed
from annotator.importers.errors import EnqueueFailed
from annotator.importers.jobs import reap_stale_imports
from annotator.models import ImportJob, ImportStatus, Membership, Role
from annotator.permissions import RANK, get_project_for, visible_projects
from annotator.services import progress
from annotator.services.imports import start_import, with_posted_at_from_id
from annotator.services.label_distribution import label_distribution
from annotator.visibility import restricted_user_id
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
        "distribution": label_distribution(project, restricted_user_id(project, request.user)),
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

    Errors are the importer's own `[{"line", "message"}]`, the same the REST API returns. When an
    all-or-nothing import fails, the upload is kept for an hour (`import_retry` in the session)
    so the page can offer "skip bad rows and import the rest" without uploading it again.
    """
    project = get_project_for(request.user, project_id, Role.ADMIN)
    if request.POST.get("retry"):
        return _retry_skipping(request, project)
    form = ImportForm(request.POST, request.FILES)
    errors: list[dict] = []
    retry_token = ""
    if form.is_valid():
        upload = form.cleaned_data["file"]
        fmt, mapping = form.cleaned_data["format"], form.cleaned_data["mapping"]
        # The option travels in the mapping, so a kept upload retried later keeps it too.
        mapping = with_posted_at_from_id(mapping, form.cleaned_data["posted_at_from_id"])
        on_error = form.cleaned_data["on_error"]
        try:
            outcome = start_import(
                project, upload, fmt, mapping=mapping, user=request.user, on_error=on_error
            )
        except EnqueueFailed as exc:
            errors = [{"line": None, "message": str(exc)}]
        except ImportFailed as exc:
            errors = list(exc.errors)
            if on_error == "stop" and any(e.get("line") for e in errors):
                retry_token = _keep_for_retry(request, upload, fmt, mapping)
        else:
            if outcome.job is not None:
                messages.info(
                    request, f"Importing {upload.name} in the background (job {outcome.job.pk})."
                )
                return redirect("project-detail", project_id=project.pk)
            return _imported(request, project, outcome.result)
    ctx = _detail_context(request, project, form)
    ctx["import_errors"] = errors
    ctx["retry_token"] = retry_token
    return render(request, "annotator/project_detail.html", ctx, status=400)


_RETRY_SECONDS = 3600


def _retry_dir() -> Path:
    path = Path(settings.VIGIA_UPLOAD_DIR) / "retry"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _keep_for_retry(request: HttpRequest, upload: Any, fmt: str, mapping: dict | None) -> str:
    """Save a refused upload so the skip offer can import it; older kept files are removed."""
    folder = _retry_dir()
    now = time.time()
    for old in folder.iterdir():
        if now - old.stat().st_mtime > _RETRY_SECONDS:
            old.unlink(missing_ok=True)
    token = uuid.uuid4().hex
    with open(folder / token, "wb") as out:
        upload.seek(0)
        for chunk in upload.chunks():
            out.write(chunk)
    kept = request.session.get("import_retry", {})
    kept[token] = {"format": fmt, "mapping": mapping, "name": upload.name}
    request.session["import_retry"] = kept
    return token


def _retry_skipping(request: HttpRequest, project: Any) -> HttpResponse:
    token = request.POST.get("retry", "")
    kept = request.session.get("import_retry", {})
    entry = kept.pop(token, None) if token.isalnum() else None
    request.session["import_retry"] = kept
    path = _retry_dir() / token if entry else None
    if entry is None or path is None or not path.is_file():
        messages.error(request, "That upload is no longer kept; choose the file again.")
        return redirect("project-detail", project_id=project.pk)
    try:
        result = start_import(
            project, path, entry["format"], mapping=entry["mapping"], user=request.user,
            on_error="skip", background=False,
        ).result
    except ImportFailed as exc:
        ctx = _detail_context(request, project)
        ctx["import_errors"] = list(exc.errors)
        return render(request, "annotator/project_detail.html", ctx, status=400)
    finally:
        path.unlink(missing_ok=True)
    return _imported(request, project, result)


def _imported(request: HttpRequest, project: Any, result: Any) -> HttpResponse:
    text = f"Imported {result.imported} examples ({result.duplicates} duplicates skipped"
    if result.skipped:
        text += f", {result.skipped} bad rows left out"
    messages.success(request, text + ").")
    if not result.errors:
        return redirect("project-detail", project_id=project.pk)
    # The rows that were left out are listed on the page itself (no redirect: the list can
    # be longer than a message should be).
    ctx = _detail_context(request, project)
    ctx["import_skipped"] = result.errors
    return render(request, "annotator/project_detail.html", ctx)


@login_required
def import_job_status(request: HttpRequest, project_id: int, job_id: int) -> HttpResponse:
    """The progress row of one import job; htmx polls it until the job finishes."""
    project = get_project_for(request.user, project_id)
    job = get_object_or_404(ImportJob, pk=job_id, project=project)

    if reap_stale_imports(job_id=job.pk):  # its worker died: say so now
        job.refresh_from_db()
    finished = job.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)
    status = HTMX_STOP_POLLING if finished and request.htmx else 200
    return render(
        request,
        "annotator/partials/import_job.html",
        {"job": job, "project": project, "poll": not finished},
        status=status,
    )



