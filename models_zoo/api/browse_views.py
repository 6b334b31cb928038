"""REST edge of the data browser (project admins): the same filters and bulk actions as the
page `/projects/{id}/data/` (models_zoo.services.browse, models_zoo.services.browse_bulk)."""
from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from annotator.exporters import CONTENT_TYPES, ExportError
from annotator.models import Role
from annotator.permissions import get_project_for
from models_zoo.services import browse, browse_bulk


def _row(example: Any, version: Any) -> dict[str, Any]:
    preds = getattr(example, "browse_predictions", [])
    return {
        "id": example.pk,
        "text": example.text,
        "external_id": example.external_id,
        "meta": example.meta,
        "posted_at": example.posted_at.isoformat() if example.posted_at else None,
        "created_at": example.created_at.isoformat(),
        # The members-only URL of a thumbnail of the example's image, or null (issue 23).
        "thumbnail": reverse("api-example-thumbnail", args=[example.project_id, example.pk]) if example.image else None,
        "annotations": [
            {"user": a.user.username if a.user_id else None, "source": a.source,
             "labels": a.labels, "spans": a.spans, "updated_at": a.updated_at.isoformat()}
            for a in example.browse_annotations
        ],
        "prediction": (
            {"model_version": version.pk, "scores": preds[0].scores, "labels": preds[0].labels,
             "thresholds": version.thresholds}
            if preds and version is not None else None
        ),
    }


def _filter(params: Any) -> browse.BrowseFilter:
    try:
        return browse.parse_filter(params)
    except browse.BrowseFilterInvalid as exc:
        raise ValidationError({exc.field: [exc.message]}) from None


@extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["examples"],
               summary="Browse examples: full-text q, label, annotator, source, annotated, has_image, "
               "score_label/score_min/score_max, model_disagrees, annotators_disagree, meta=k=v, "
               "posted_/created_after/before, sort, page, page_size, after (the previous "
               "page's next_after: keyset pages for id sorts) (admins)")
@api_view(["GET"])
def browse_examples(request: Request, project_id: int) -> Response:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    f = _filter(request.query_params)
    try:
        page = browse.browse_page(project, f)
    except browse.BrowseFilterInvalid as exc:
        raise ValidationError({exc.field: [exc.message]}) from None
    return Response({
        "page": page.page, "page_size": page.page_size, "has_next": page.has_next,
        "next_after": page.next_after,
        "count": page.count, "count_capped": page.count_capped,
        "results": [_row(x, page.version) for x in page.rows],
    })


@extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT}, tags=["examples"],
               summary="Bulk action on examples: {action: delete|front|export, ids: [...]} or "
               "{action, filter: {...browse parameters}}; export takes format (admins)")
@api_view(["POST"])
def bulk_examples(request: Request, project_id: int) -> Any:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    data = request.data if isinstance(request.data, dict) else {}
    action = str(data.get("action", ""))
    if action not in browse_bulk.ACTIONS:
        raise ValidationError({"action": [f"{action!r} is not an action; valid: "
                                          f"{', '.join(browse_bulk.ACTIONS)}."]})
    raw_filter = data.get("filter")
    if raw_filter is not None and not isinstance(raw_filter, dict):
        raise ValidationError({"filter": ["must be an object of browse parameters."]})
    ids = data.get("ids")
    if ids is not None and not isinstance(ids, list):
        raise ValidationError({"ids": ["must be a list of example ids."]})
    try:
        selection = browse_bulk.selection_from(
            ids, _filter(raw_filter) if raw_filter is not None else None
        )
        if action == "delete":
            return Response({"deleted": browse_bulk.delete_examples(project, selection)})
        if action == "front":
            return Response({"moved": browse_bulk.send_to_front(project, selection)})
        fmt = str(data.get("format", "jsonl"))
        chunks = browse_bulk.export_selection(project, selection, fmt, request.user)
    except (browse_bulk.BulkActionInvalid, browse.BrowseFilterInvalid) as exc:
        raise ValidationError({exc.field: [exc.message]}) from None
    except ExportError as exc:
        raise ValidationError({"format": [str(exc)]}) from None
    response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="project-{project.pk}-selection.{fmt}"'
    return response
