"""The import page with a preview: upload, see the first rows parsed with the detected mapping,
change any column's role in its dropdown, then import.

The upload is kept under VIGIA_UPLOAD_DIR/preview/<token> (named in the session) between the
steps, for an hour. Importing calls `annotator.services.imports.start_import`, the same use
case as the REST import and the CLI (mapping checked first, background job for large files).
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from annotator.importers import ImportFailed
from annotator.importers.errors import ON_ERROR_CHOICES, EnqueueFailed
from annotator.importers.preview import mapping_from_roles, preview_import
from annotator.models import Project, Role
from annotator.permissions import get_project_for
from annotator.services.imports import start_import, with_posted_at_from_id
from annotator.web.forms import ImportForm
from annotator.web.views import _imported

_KEEP_SECONDS = 3600
_SESSION_KEY = "import_preview"


def _folder() -> Path:
    path = Path(settings.VIGIA_UPLOAD_DIR) / "preview"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _keep(request: HttpRequest, upload: Any, fmt: str, on_error: str,
          posted_at_from_id: bool = False) -> str:
    folder = _folder()
    now = time.time()
    for old in folder.iterdir():
        if now - old.stat().st_mtime > _KEEP_SECONDS:
            old.unlink(missing_ok=True)
    token = uuid.uuid4().hex
    with open(folder / token, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    kept = request.session.get(_SESSION_KEY, {})
    kept[token] = {"format": fmt, "name": upload.name, "on_error": on_error,
                   "posted_at_from_id": posted_at_from_id}
    request.session[_SESSION_KEY] = kept
    return token


def _forget(request: HttpRequest, token: str) -> None:
    kept = request.session.get(_SESSION_KEY, {})
    kept.pop(token, None)
    request.session[_SESSION_KEY] = kept
    (_folder() / token).unlink(missing_ok=True)


def _render(request: HttpRequest, project: Project, token: str, entry: dict[str, Any],
            mapping: dict[str, Any] | None, errors: list[dict[str, Any]], status: int = 200,
            roles: dict[str, str] | None = None, attempted: bool = False) -> HttpResponse:
    path = _folder() / token
    try:
        preview = preview_import(project, path, entry["format"], mapping)
    except ImportFailed as exc:  # a mapping the importer refuses: show the detected one
        errors = errors + list(exc.errors)
        preview = preview_import(project, path, entry["format"], None)
        status = 400
    if roles:  # keep what the admin chose, even where it was refused
        preview.roles.update({c: r for c, r in roles.items() if c in preview.roles})
    errors = errors + list(preview.errors)
    columns = [
        {"index": i, "name": name, "role": preview.roles.get(name, "meta")}
        for i, name in enumerate(preview.columns)
    ]
    context = {
        "project": project, "token": token, "entry": entry, "preview": preview,
        "columns": columns, "errors": errors, "on_error_choices": ON_ERROR_CHOICES,
        "bad_rows": sum(1 for r in preview.rows if r.error), "attempted": attempted,
    }
    return render(request, "annotator/import_preview.html", context, status=status)


@login_required
@require_POST
def import_preview(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    token = request.POST.get("token", "")
    if not token:  # the first step: the upload from the project page
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
            messages.error(request, f"Nothing to preview: {problems}")
            return redirect("project-detail", project_id=project.pk)
        cleaned = form.cleaned_data
        token = _keep(request, cleaned["file"], cleaned["format"], cleaned["on_error"],
                      cleaned["posted_at_from_id"])
        entry = request.session[_SESSION_KEY][token]
        mapping = with_posted_at_from_id(cleaned["mapping"], cleaned["posted_at_from_id"])
        return _render(request, project, token, entry, mapping, [])
    entry = request.session.get(_SESSION_KEY, {}).get(token) if token.isalnum() else None
    if entry is None or not (_folder() / token).is_file():
        messages.error(request, "That upload is no longer kept; choose the file again.")
        return redirect("project-detail", project_id=project.pk)
    on_error = request.POST.get("on_error", entry["on_error"])
    # The checkbox: unchecked boxes are not sent, so the form says it is there ("times-shown").
    from_ids = (bool(request.POST.get("posted_at_from_id")) if request.POST.get("times-shown")
                else bool(entry.get("posted_at_from_id")))
    entry = {**entry, "on_error": on_error, "posted_at_from_id": from_ids}
    columns = preview_import(project, _folder() / token, entry["format"], None, n=1).columns
    roles = {name: request.POST.get(f"role-{i}", "meta") for i, name in enumerate(columns)}
    try:
        mapping = mapping_from_roles(columns, roles) if columns else None
        mapping = with_posted_at_from_id(mapping, from_ids)
    except ImportFailed as exc:
        return _render(request, project, token, entry, None, list(exc.errors), 400, roles)
    if request.POST.get("action") != "import":
        return _render(request, project, token, entry, mapping, [], roles=roles)
    try:
        outcome = start_import(
            project, _folder() / token, entry["format"], mapping=mapping, user=request.user,
            on_error=on_error, name=entry["name"],
        )
    except ImportFailed as exc:
        return _render(request, project, token, entry, mapping, list(exc.errors), 400, roles, True)
    except EnqueueFailed as exc:
        return _render(request, project, token, entry, mapping,
                       [{"line": None, "message": str(exc)}], 503, roles, True)
    _forget(request, token)
    if outcome.job is not None:
        messages.info(request, f"Importing {entry['name']} in the background (job {outcome.job.pk}).")
        return redirect("project-detail", project_id=project.pk)

    return _imported(request, project, outcome.result)
