"""The data browser page (project admins): filters, a page of examples, bulk actions. The
filters and actions are models_zoo.services.browse / browse_bulk, shared with the REST API."""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from annotator.exporters import CONTENT_TYPES, EXPORT_FORMATS, ExportError
from annotator.models import AnnotationSource, Role
from annotator.permissions import get_project_for
from models_zoo.services import browse, browse_bulk


def _context(project, params: QueryDict) -> dict:
    error = None
    page = None
    try:
        f = browse.parse_filter(params)
        page = browse.browse_page(project, f)
    except browse.BrowseFilterInvalid as exc:
        error = exc
    query = params.copy()
    query.pop("page", None)
    query.pop("after", None)
    base = query.urlencode()
    rows = []
    if page is not None:
        for example in page.rows:
            preds = getattr(example, "browse_predictions", [])
            rows.append({"example": example, "annotations": example.browse_annotations,
                         "prediction": preds[0] if preds else None})
    version = page.version if page else browse.current_version(project)
    return {
        "project": project, "page": page, "rows": rows, "error": error, "values": params,
        "meta_values": [v for v in params.getlist("meta") if v] or [""],
        "base_query": base, "filter_query": base,
        "labels": list(project.labels.values_list("name", flat=True)),
        "sources": AnnotationSource.values, "sorts": browse.SORTS,
        "version": version, "export_formats": EXPORT_FORMATS,
        "prev_url": f"?{base}&page={page.page - 1}" if page and page.has_previous else "",
        "next_url": (f"?{base}&page={page.page + 1}"
                     + (f"&after={page.next_after}" if page.next_after else "")) if page and page.has_next else "",
    }


@login_required
def browse_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    context = _context(project, request.GET)
    return render(request, "annotator/browse.html", context, status=400 if context["error"] else 200)


@login_required
@require_POST
def browse_bulk_action(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    filter_query = request.POST.get("filter_query", "")
    back = reverse("browse", args=[project.pk]) + (f"?{filter_query}" if filter_query else "")
    action = request.POST.get("action", "")
    try:
        if action not in browse_bulk.ACTIONS:
            raise browse_bulk.BulkActionInvalid("action", "choose delete, front or export.")
        if request.POST.get("all_matching"):
            selection = browse_bulk.selection_from(
                None, browse.parse_filter(QueryDict(filter_query))
            )
        else:
            selection = browse_bulk.selection_from(request.POST.getlist("ids"), None)
        if action == "delete" and not request.POST.get("confirm"):
            count = browse_bulk.selected(project, selection).count()
            return render(request, "annotator/browse_confirm.html", {
                "project": project, "count": count, "post": request.POST, "back": back,
                "ids": request.POST.getlist("ids"),
            })
        if action == "delete":
            n = browse_bulk.delete_examples(project, selection)
            messages.success(request, f"Deleted {n} example{'s' if n != 1 else ''}.")
        elif action == "front":
            n = browse_bulk.send_to_front(project, selection)
            messages.success(request, f"Sent {n} example{'s' if n != 1 else ''} to the front of the queue.")
        else:
            fmt = request.POST.get("format", "jsonl")
            chunks = browse_bulk.export_selection(project, selection, fmt, request.user)
            response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[fmt])
            response["Content-Disposition"] = (
                f'attachment; filename="project-{project.pk}-selection.{fmt}"'
            )
            return response
    except (browse_bulk.BulkActionInvalid, browse.BrowseFilterInvalid) as exc:
        messages.error(request, f"{exc.field}: {exc.message}")
    except ExportError as exc:
        messages.error(request, f"format: {exc}")
    return redirect(back)


def browse_url(project_id: int, **params: str) -> str:
    return reverse("browse", args=[project_id]) + ("?" + urlencode(params) if params else "")
