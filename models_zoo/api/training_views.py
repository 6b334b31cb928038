"""REST views of training runs, model versions and backends: parse, check the role, call the
services in models_zoo.services, answer. Outsiders get 404, members below the role 403."""
from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from annotator.models import Role
from annotator.permissions import get_project_for
from models_zoo.api.serializers import (
    BackendInfoSerializer,
    ErrorSerializer,
    ModelVersionDetailSerializer,
    ModelVersionSerializer,
    TrainingRunSerializer,
    TrainRequestSerializer,
    TrainResponseSerializer,
)
from models_zoo.models import ModelVersion, TrainingRun
from models_zoo.services.catalog import backend_catalog
from models_zoo.services.promotion import (
    PromotionNeedsConfirmation,
    promote_reviewed,
    review_promotion,
)
from models_zoo.services.training import (
    TrainingRequestError,
    cancel_run,
    reap_stale_runs,
    start_training_run,
)


def _error(exc: TrainingRequestError) -> Response:
    body: dict[str, Any] = {"detail": exc.message}
    if exc.run_id is not None:
        body["run"] = exc.run_id
        body["run_url"] = reverse("api-run-detail", args=[exc.run_id])
    if exc.errors:
        body["errors"] = exc.errors
    return Response(body, status=exc.status)


def _run_for(request: Request, run_id: int, min_role: str) -> TrainingRun:
    run = TrainingRun.objects.filter(pk=run_id).first()
    if run is None:
        raise Http404("No such training run.")
    get_project_for(request.user, run.project_id, min_role)
    return run


def _version_for(request: Request, version_id: int, min_role: str) -> ModelVersion:
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise Http404("No such model version.")
    get_project_for(request.user, version.project_id, min_role)
    return version


@extend_schema(
    request=TrainRequestSerializer,
    responses={
        202: TrainResponseSerializer, 400: ErrorSerializer, 409: ErrorSerializer,
        503: OpenApiResponse(ErrorSerializer, description="The task queue is down; no run was created"),
    },
    summary="Start a training run (project admins)",
)
@api_view(["POST"])
def train(request: Request, project_id: int) -> Response:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    body = TrainRequestSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        run = start_training_run(
            project, body.validated_data["backend"], body.validated_data.get("config"), request.user,
            require_queue=True,
        )
    except TrainingRequestError as exc:
        return _error(exc)
    return Response({"run": run.pk}, status=202)


@extend_schema(responses={200: TrainingRunSerializer(many=True)}, summary="Training runs of a project")
@api_view(["GET"])
def project_runs(request: Request, project_id: int) -> Response:
    project = get_project_for(request.user, project_id, Role.VIEWER)
    reap_stale_runs(project=project)
    runs = TrainingRun.objects.filter(project=project).select_related("model_version").order_by("-id")
    return Response(TrainingRunSerializer(runs, many=True).data)


@extend_schema(responses={200: TrainingRunSerializer}, summary="A training run: state, progress, log tail")
@api_view(["GET"])
def run_detail(request: Request, run_id: int) -> Response:
    return _run_detail(request, run_id)


def _run_detail(request: Request, run_id: int) -> Response:
    run = _run_for(request, run_id, Role.VIEWER)
    reap_stale_runs(project=run.project)
    run.refresh_from_db()
    return Response(TrainingRunSerializer(run).data)


@extend_schema(exclude=True)
@api_view(["GET"])
def run_detail_slash(request: Request, run_id: int) -> Response:
    """`/runs/{id}/` answers like `/runs/{id}` (documented once, under the contract's path)."""
    return _run_detail(request, run_id)


@extend_schema(
    request=inline_serializer(
        "CancelRequest",
        {"force": serializers.BooleanField(
            required=False, default=False,
            help_text="Mark a running run cancelled now, without waiting for its worker "
            "(use when the worker is gone).",
        )},
    ),
    parameters=[OpenApiParameter("force", bool, OpenApiParameter.QUERY, required=False)],
    responses={200: TrainingRunSerializer, 400: ErrorSerializer, 409: ErrorSerializer},
    summary="Cancel a queued or running run (project admins); force=true for a dead worker",
)
@api_view(["POST"])
def run_cancel(request: Request, run_id: int) -> Response:
    run = _run_for(request, run_id, Role.ADMIN)
    body = request.data
    if not isinstance(body, dict):  # a JSON list, string or number
        raise serializers.ValidationError({"body": ["must be a JSON object such as {\"force\": true}"]})
    raw = body.get("force", request.query_params.get("force", False))
    try:
        force = serializers.BooleanField().run_validation(raw) if raw not in ("", None) else False
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({"force": exc.detail}) from None
    try:
        run = cancel_run(run, force=force)
    except TrainingRequestError as exc:
        return _error(exc)
    return Response(TrainingRunSerializer(run).data)


@extend_schema(responses={200: ModelVersionSerializer(many=True)}, summary="Model versions of a project")
@api_view(["GET"])
def project_models(request: Request, project_id: int) -> Response:
    project = get_project_for(request.user, project_id, Role.VIEWER)
    versions = ModelVersion.objects.filter(project=project).order_by("-id")
    return Response(ModelVersionSerializer(versions, many=True).data)


@extend_schema(responses={200: ModelVersionDetailSerializer}, summary="A model version with its data snapshot")
@api_view(["GET"])
def model_detail(request: Request, version_id: int) -> Response:
    version = _version_for(request, version_id, Role.VIEWER)
    return Response(ModelVersionDetailSerializer(version).data)


class PromotedVersionSerializer(ModelVersionSerializer):
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True,
                                     help_text="the promotion review's warnings (empty: none)")

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "warnings"]


class PromoteSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(
        required=False, default=True,
        help_text="true (the default, as before): promote and report the review's warnings; "
                  "false: refuse with 409 and the review when it has warnings")


@extend_schema(
    request=PromoteSerializer,
    responses={200: PromotedVersionSerializer, 404: OpenApiResponse(description="not a member"),
               409: OpenApiResponse(description="confirm=false and the review has warnings: "
                                                "{detail, warnings, changes, label_changes, rule}")},
    summary="Make a model version current, atomically (project admins); the answer lists the "
            "promotion review's warnings (worse, too small a validation split, another split)",
)
@api_view(["POST"])
def model_promote(request: Request, version_id: int) -> Response:
    version = _version_for(request, version_id, Role.ADMIN)
    data = request.data if hasattr(request.data, "get") else {}
    body = PromoteSerializer(data={"confirm": data.get("confirm", request.query_params.get("confirm", True))})
    body.is_valid(raise_exception=True)
    review = review_promotion(version)
    try:
        version = promote_reviewed(version, confirm=body.validated_data["confirm"])
    except PromotionNeedsConfirmation as exc:
        review_data = exc.review.as_dict()
        return Response({"detail": "not promoted: " + "; ".join(review_data["warnings"])
                         + ". Send confirm=true to promote anyway.", **review_data}, status=409)
    return Response({**ModelVersionSerializer(version).data, "warnings": review.warnings})


@extend_schema(responses={200: BackendInfoSerializer(many=True)}, summary="Backends with their config JSON schema")
@api_view(["GET"])
def backends(request: Request) -> Response:
    return Response(BackendInfoSerializer(backend_catalog(), many=True).data)
