"""REST edges of import and export: parse the request, call the importer/exporter services."""
from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.parsers import SafeFormParser, SafeMultiPartParser
from annotator.importers import FORMATS, ImportFailed
from annotator.importers.errors import ON_ERROR_CHOICES, EnqueueFailed
from annotator.importers.jobs import reap_stale_imports
from annotator.models import ImportJob, Role
from annotator.permissions import get_project_for
from annotator.services.imports import parse_mapping_text, start_import

ErrorList = inline_serializer(
    "ImportErrors",
    {
        "errors": serializers.ListField(
            child=inline_serializer(
                "ImportError",
                {
                    "line": serializers.IntegerField(allow_null=True),
                    "message": serializers.CharField(),
                    "field": serializers.CharField(required=False),
                },
            )
        )
    },
)


class ImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)

    class Meta:
        model = ImportJob
        fields = (
            "id", "project", "status", "format", "original_name", "progress", "total_bytes",
            "processed_bytes", "rows_seen", "imported", "duplicates", "skipped", "on_error",
            "errors", "created_at", "finished_at", "heartbeat_at",
        )
        read_only_fields = fields


def _field_error(field: str, message: str) -> Response:
    return Response(
        {"errors": [{"line": None, "field": field, "message": f"{field}: {message}"}]},
        status=status.HTTP_400_BAD_REQUEST,
    )


class ImportView(APIView):
    """POST /api/v1/projects/{id}/import: project admins only."""

    parser_classes = (SafeMultiPartParser, SafeFormParser)

    @extend_schema(
        operation_id="project_import",
        summary="Import examples (and their labels) from a file",
        description=(
            "All or nothing by default (`on_error=stop`): any bad row gives 400 with up to 100 "
            "`{line, message}` errors and stores nothing. `on_error=skip` imports the valid rows "
            "and lists the bad ones: 201 with `skipped` and `errors`. Undecodable bytes and an "
            "unusable header fail the file either way. Duplicates (same normalized text) are "
            "skipped and counted. Files above VIGIA_IMPORT_ASYNC_BYTES import as a background "
            "job: 202 with its status URL. 503 when the task queue is down (nothing stored). "
            "`mapping` is a JSON object naming columns: text, id, labels, label_values, spans, "
            "meta, meta_defaults, keep_extra, ignore, posted_at_from_id, image; anything left out is "
            "auto-detected. `format=zip`: a ZIP holding manifest.csv or manifest.jsonl whose "
            "`image` column names image files inside the archive; in JSONL an `image` field may "
            "hold a base64 image. Images are checked with Pillow (format, decodable, "
            "VIGIA_MAX_IMAGE_PIXELS, VIGIA_MAX_IMAGE_BYTES) and refused naming line, file and "
            "reason; unsafe archives (path traversal, links, over VIGIA_MAX_ARCHIVE_BYTES "
            "uncompressed) are refused; no image is stored unless the import is. `posted_at_from_id` (`true` for the id column, or a column name) "
            "takes each row's posting time from its Twitter/X snowflake id: ms since the Unix "
            "epoch = (id >> 22) + 1288834974657; a date column of the row wins."
        ),
        request={
            "multipart/form-data": inline_serializer(
                "ImportRequest",
                {
                    "file": serializers.FileField(),
                    "format": serializers.ChoiceField(choices=FORMATS),
                    "mapping": serializers.CharField(required=False, help_text="JSON object"),
                    "on_error": serializers.ChoiceField(
                        choices=ON_ERROR_CHOICES, required=False,
                        help_text="stop (default): all or nothing; skip: import the valid rows",
                    ),
                    "posted_at_from_id": serializers.CharField(
                        required=False,
                        help_text="true: posting times from the tweet ids of the id column; "
                        "or the name of a column of tweet ids; false (default): off",
                    ),
                },
            )
        },
        responses={
            201: inline_serializer(
                "ImportDone",
                {
                    "imported": serializers.IntegerField(),
                    "duplicates": serializers.IntegerField(),
                    "skipped": serializers.IntegerField(),
                    "errors": serializers.ListField(
                        child=inline_serializer(
                            "SkippedRow",
                            {"line": serializers.IntegerField(allow_null=True), "message": serializers.CharField()},
                        )
                    ),
                },
            ),
            202: inline_serializer(
                "ImportQueued", {"job": serializers.IntegerField(), "status_url": serializers.CharField()}
            ),
            400: ErrorList,
            403: OpenApiResponse(description="Not an admin of this project"),
            404: OpenApiResponse(description="No such project (or not a member)"),
            503: OpenApiResponse(description="The task queue is unavailable; nothing was stored"),
        },
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.ADMIN)
        upload = request.FILES.get("file")
        if upload is None:
            return _field_error("file", "no file uploaded (send it as the multipart field 'file')")
        try:
            outcome = start_import(
                project, upload, request.data.get("format") or "",
                mapping=parse_mapping_text(request.data.get("mapping")), user=request.user,
                on_error=request.data.get("on_error") or "stop",
                posted_at_from_id=request.data.get("posted_at_from_id"),
            )
        except ImportFailed as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        except EnqueueFailed as exc:
            return Response(
                {"errors": [{"line": None, "message": str(exc)}]},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        if outcome.job is not None:
            url = request.build_absolute_uri(reverse("api-import-job-detail", args=[outcome.job.pk]))
            return Response({"job": outcome.job.pk, "status_url": url}, status=status.HTTP_202_ACCEPTED)
        return Response(outcome.result.as_dict(), status=status.HTTP_201_CREATED)


class ImportJobView(APIView):
    """GET /api/v1/imports/{job_id}: the progress of a background import (project admins)."""

    @extend_schema(
        operation_id="import_job_detail",
        summary="Status and progress of a background import",
        responses={200: ImportJobSerializer, 403: OpenApiResponse(), 404: OpenApiResponse()},
    )
    def get(self, request: Request, job_id: int) -> Response:
        job = get_object_or_404(ImportJob, pk=job_id)
        get_project_for(request.user, job.project_id, Role.ADMIN)
        if reap_stale_imports(job_id=job.pk):  # its worker died: say so now
            job.refresh_from_db()
        return Response(ImportJobSerializer(job).data)


class _IgnoreFormatOverride(DefaultContentNegotiation):
    """`?format=` names the export format here, not a DRF renderer."""

    def select_renderer(self, request: Any, renderers: list, format_suffix: str | None = None):
        renderer = renderers[0]
        return renderer, renderer.media_type

