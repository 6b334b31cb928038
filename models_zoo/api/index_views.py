"""REST edge of the prevalence index: GET /api/v1/projects/{id}/index?label=L[&version=V]
[&window=7][&compare=V2][&peaks=ratio|z][&k=1.5][&sample=S][&format=csv]. Members read it."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.permissions import get_project_for
from config.inputs import InvalidInput, parse_float, parse_int
from models_zoo.services.prevalence import IndexQueryError, index_csv, prevalence_index


class _NoModel(APIException):
    status_code = 409
    default_code = "conflict"


def _int(params: Any, key: str, default: int | None = None, lo: int = 1, hi: int = 2**63 - 1) -> int | None:
    """A whole number in [lo, hi] (ids: 1..2**63-1, so 2**63 is a 400, not an overflow)."""
    try:
        return parse_int(params.get(key), key, default=default, lo=lo, hi=hi)
    except InvalidInput as exc:
        raise ValidationError({key: [f"{key} {exc.message}"]}) from None


def _float(params: Any, key: str, default: float) -> float:
    """A finite number: `k=nan` or `k=inf` is a 400 (the answer could not be JSON)."""
    try:
        return parse_float(params.get(key), key, default=default)
    except InvalidInput as exc:
        raise ValidationError({key: [f"{key} {exc.message}"]}) from None


def index_for_request(request: Any, project: Any) -> dict[str, Any]:
    """Parse the query string and compute the index (shared by the REST view and the page)."""
    params = request.GET
    label = params.get("label")
    if not label:
        raise ValidationError({"label": ["label is required"]})
    try:
        return prevalence_index(
            project,
            label,
            version_id=_int(params, "version"),
            window=_int(params, "window", 7, lo=0, hi=3650) or 0,
            compare=_int(params, "compare"),
            peak_method=params.get("peaks") or "ratio",
            peak_k=_float(params, "k", 1.5),
            sample_id=_int(params, "sample"),
        )
    except IndexQueryError as exc:
        if exc.status == 409:
            raise _NoModel(exc.message) from None
        raise ValidationError({exc.field: [exc.message]}) from None


class _FormatIsOurs(DefaultContentNegotiation):
    """`?format=csv` selects the CSV body here, not a DRF renderer."""

    def select_renderer(self, request: Any, renderers: list, format_suffix: str | None = None):
        renderer = renderers[0]
        return renderer, renderer.media_type


class PrevalenceIndexView(APIView):
    permission_classes = [IsAuthenticated]
    content_negotiation_class = _FormatIsOurs

    @extend_schema(
        tags=["index"],
        summary="Daily share of examples the model labels positive, moving average, peaks, "
        "corrected index; CSV with format=csv",
        parameters=[
            OpenApiParameter("label", str, required=True),
            OpenApiParameter("version", int),
            OpenApiParameter("window", int),
            OpenApiParameter("compare", int),
            OpenApiParameter("peaks", str, enum=["ratio", "z"]),
            OpenApiParameter("k", float),
            OpenApiParameter("sample", int),
            OpenApiParameter("format", str, enum=["json", "csv"]),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, project_id: int) -> Response | HttpResponse:
        project = get_project_for(request.user, project_id)
        body = index_for_request(request, project)
        if request.GET.get("format") == "csv":
            response = HttpResponse(index_csv(body), content_type="text/csv; charset=utf-8")
            name = f"index-{project.pk}-{body['label']}-v{body['model_version']}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return Response(body)
