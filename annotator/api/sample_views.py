"""REST edges of stratified samples: design/preview/draw, the sample with estimates, its members.

Bad designs answer 400 `{field: [message]}` naming the problem (a missing field and on how many
examples, a stratum with fewer than 2 examples, a target CV no sample reaches).
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.pagination import StandardPagination
from annotator.models import Role, Sample
from annotator.permissions import get_project_for
from annotator.sampling import DesignError
from annotator.services import samples as sample_service
from config.openapi import OBJECT_LIST


def sample_body(sample: Sample, estimates: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": sample.pk,
        "project": sample.project_id,
        "name": sample.name,
        "field": sample.field,
        "design": sample.design,
        "seed": sample.seed,
        "population": sample.population,
        "size": sample.size,
        "strata": sample.strata,
        "created_at": sample.created_at,
    }
    if estimates:
        body["estimates"] = sample_service.sample_estimates(sample)
    return body


def _design_error(exc: DesignError) -> ValidationError:
    return ValidationError({exc.field: [exc.message]})


class ProjectSamples(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["samples"], summary="The project's samples",
                   responses={200: OBJECT_LIST})
    def get(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id)
        return Response([sample_body(s) for s in project.samples.order_by("-id")])

    @extend_schema(
        tags=["samples"],
        summary="Design a stratified sample; preview its strata or draw it (admins)",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.ADMIN)
        data = request.data
        preview = isinstance(data, dict) and data.get("preview") in (True, "true", "1", 1)
        try:
            if preview:
                return Response(sample_service.preview_sample(project, data))
            sample = sample_service.draw_sample(project, data, request.user)
        except DesignError as exc:
            raise _design_error(exc) from None
        return Response(sample_body(sample), status=status.HTTP_201_CREATED)


def _sample_for(request: Request, sample_id: int) -> Sample:
    sample = get_object_or_404(Sample.objects.select_related("project"), pk=sample_id)
    get_project_for(request.user, sample.project_id)  # 404 for outsiders
    return sample


class SampleDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["samples"],
        summary="A sample with its strata and per-label weighted estimates",
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, sample_id: int) -> Response:
        return Response(sample_body(_sample_for(request, sample_id), estimates=True))


class SampleMembers(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["samples"],
        summary="The sample's members {example, stratum, weight}, paginated",
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, sample_id: int) -> Response:
        sample = _sample_for(request, sample_id)
        paginator = StandardPagination()
        rows = sample.members.order_by("example_id").values("example_id", "stratum", "weight")
        page = paginator.paginate_queryset(rows, request, view=self)
        names = [s["name"] for s in sample.strata]
        items = [
            {"example": r["example_id"], "stratum": names[r["stratum"]], "weight": r["weight"]}
            for r in page
        ]
        return paginator.get_paginated_response(items)
