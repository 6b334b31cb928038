"""REST edge of chunked whole-project prediction (models_zoo.services.chunked_prediction).

- POST /api/v1/projects/{id}/prediction-jobs {model_version?, chunk_size?}  admins -> 202 job
- GET  /api/v1/projects/{id}/prediction-jobs                                members
- GET  /api/v1/prediction-jobs/{id}                                         members: progress
- POST /api/v1/prediction-jobs/{id}/cancel | /resume                        admins
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.models import Role
from annotator.permissions import get_project_for
from config.inputs import INT64_MAX, InvalidInput, parse_int
from config.openapi import OBJECT_LIST
from models_zoo.models import PredictionJob
from models_zoo.services import chunked_prediction as service


def _error(exc: service.PredictionJobError) -> Response:
    if exc.conflict:
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    return Response({exc.field: [exc.message]}, status=status.HTTP_400_BAD_REQUEST)


def _int_field(data: Any, key: str, default: int | None, hi: int = INT64_MAX) -> int | None:
    """An integer of the body through the shared parser; absent or null: `default`."""
    value = data.get(key) if isinstance(data, dict) else None
    try:
        return parse_int(value, key, default=default, lo=1, hi=hi)
    except InvalidInput as exc:
        raise service.PredictionJobError(f"{key} {exc.message}", key) from None


class ProjectPredictionJobs(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["predictions"],
        summary="The project's chunked prediction jobs",
        responses={200: OBJECT_LIST},
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id)
        return Response([service.job_body(j) for j in project.prediction_jobs.order_by("-id")[:50]])

    @extend_schema(
        tags=["predictions"],
        summary="Predict every example the version has not predicted, in chunks (admins)",
        request=OpenApiTypes.OBJECT,
        responses={202: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.ADMIN)
        try:
            job = service.start_prediction_job(
                project,
                _int_field(request.data, "model_version", None),
                _int_field(request.data, "chunk_size", service.DEFAULT_CHUNK_SIZE, hi=service.MAX_CHUNK_SIZE),
            )
        except service.PredictionJobError as exc:
            return _error(exc)
        return Response(service.job_body(job), status=status.HTTP_202_ACCEPTED)


def _job_for(request: Request, job_id: int, role: str = Role.VIEWER) -> PredictionJob:
    job = get_object_or_404(PredictionJob, pk=job_id)
    get_project_for(request.user, job.project_id, role)
    return job


class PredictionJobDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["predictions"],
        summary="Progress of a chunked prediction job",
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, prediction_job_id: int) -> Response:
        return Response(service.job_body(_job_for(request, prediction_job_id)))


class PredictionJobCancel(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["predictions"],
        summary="Cancel: chunks not started stop (admins)",
        request=None,
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request: Request, prediction_job_id: int) -> Response:
        job = _job_for(request, prediction_job_id, Role.ADMIN)
        return Response(service.job_body(service.cancel_prediction_job(job)))


class PredictionJobResume(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["predictions"],
        summary="Re-enqueue the chunks not done (admins)",
        request=None,
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request: Request, prediction_job_id: int) -> Response:
        job = _job_for(request, prediction_job_id, Role.ADMIN)
        try:
            job = service.resume_prediction_job(job)
        except service.PredictionJobError as exc:
            return _error(exc)
        return Response(service.job_body(job), status=status.HTTP_202_ACCEPTED)
