"""GET /api/v1/projects/{id}/export: the export service, filtered to what the caller may see."""
from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from annotator.api.io_views import ErrorList, _field_error, _IgnoreFormatOverride
from annotator.exporters import CONTENT_TYPES, EXPORT_FORMATS, ExportError, iter_export
from annotator.exporters.images import iter_zip
from annotator.models import Role
from annotator.permissions import get_project_for


class ExportView(APIView):
    """Any member may export; an annotator's file holds only their own and imported
    annotations, like the annotations endpoint."""

    content_negotiation_class = _IgnoreFormatOverride

    @extend_schema(
        operation_id="project_export",
        summary="Download the project's examples and the annotations you may see",
        parameters=[
            OpenApiParameter(
                "format", str, OpenApiParameter.QUERY, enum=[*EXPORT_FORMATS, "zip"],
                description="jsonl (default), csv, conll (spans projects), or zip (manifest.jsonl "
                "and the images; imports back with format=zip)",
            )
        ],
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "text/plain"): OpenApiTypes.BINARY,
            (200, "application/zip"): OpenApiTypes.BINARY,
            400: ErrorList,
            404: OpenApiResponse(description="No such project (or not a member)"),
        },
    )
    def get(self, request: Request, project_id: int) -> Any:
        project = get_project_for(request.user, project_id, Role.VIEWER)
        fmt = request.query_params.get("format", "jsonl")
        if fmt == "zip":
            response = StreamingHttpResponse(iter_zip(project, for_user=request.user), content_type="application/zip")
            response["Content-Disposition"] = f'attachment; filename="project-{project.pk}.zip"'
            return response
        try:
            chunks = iter_export(project, fmt, for_user=request.user)
        except ExportError as exc:
            return _field_error("format", str(exc))
        response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="project-{project.pk}.{fmt}"'
        return response
