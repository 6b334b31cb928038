"""REST edge of the prediction API: parse, check permissions, call models_zoo.services.prediction.

- POST /api/v1/projects/{id}/predict             members (viewers too), token or session auth
- POST /api/v1/projects/{id}/predict-all         project admins; 202 with the Celery task id
- GET  /api/v1/projects/{id}/predictions/status  members; progress of the stored predictions
"""

from __future__ import annotations

import logging

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.models import Role
from annotator.permissions import get_project_for
from config.inputs import InvalidInput, parse_int
from config.server_timing import TimedJSONRenderer, add_metric
from models_zoo.services import prediction as service
from models_zoo.serving import ModelUnavailable, NoCurrentModel

logger = logging.getLogger(__name__)

_error_list = inline_serializer(
    "PredictErrors",
    {
        "errors": serializers.ListField(
            child=inline_serializer(
                "PredictError",
                {
                    "item": serializers.IntegerField(required=False, help_text="0-based index"),
                    "field": serializers.CharField(),
                    "message": serializers.CharField(),
                },
            )
        )
    },
)
_detail = inline_serializer("PredictDetail", {"detail": serializers.CharField()})

_predict_request = inline_serializer(
    "PredictRequest",
    {
        "texts": serializers.ListField(
            child=serializers.CharField(), required=False, max_length=service.MAX_ITEMS_PER_REQUEST
        ),
        "model_version": serializers.IntegerField(
            required=False,
            help_text="Pin a version of this project (reproducibility, comparing two); default: the current one",
        ),
        "items": serializers.ListField(
            child=inline_serializer(
                "PredictItem",
                {
                    "text": serializers.CharField(required=False),
                    "image": serializers.CharField(required=False, help_text="base64 image bytes"),
                },
            ),
            required=False,
            max_length=service.MAX_ITEMS_PER_REQUEST,
        ),
    },
)
_predict_response = inline_serializer(
    "PredictResponse",
    {
        "model_version": serializers.IntegerField(),
        "backend": serializers.CharField(),
        "thresholds": serializers.DictField(child=serializers.FloatField()),
        "predictions": serializers.ListField(
            child=inline_serializer(
                "PredictionOut",
                {
                    "scores": serializers.DictField(child=serializers.FloatField()),
                    "labels": serializers.ListField(child=serializers.CharField()),
                    "spans": serializers.ListField(child=serializers.DictField()),
                },
            )
        ),
    },
)
_status_response = inline_serializer(
    "PredictionStatus",
    {
        "model_version": serializers.IntegerField(allow_null=True),
        "examples": serializers.IntegerField(),
        "predicted": serializers.IntegerField(),
        "remaining": serializers.IntegerField(),
        "progress": serializers.FloatField(),
        "complete": serializers.BooleanField(),
    },
)


def _body_too_big(request: Request) -> Response | None:
    # DRF's JSON parser reads the raw stream, which Django's DATA_UPLOAD_MAX_MEMORY_SIZE does
    # not guard; refuse oversized bodies (e.g. 256 huge images) before parsing them.
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if limit is None or length <= limit:
        return None
    return Response(
        {
            "detail": f"request body is {length} bytes; the limit is {limit} bytes per request",
            "limit_bytes": limit,
        },
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def _unavailable(exc: Exception) -> Response:
    logger.error("prediction model unavailable: %s", exc)
    return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)


class PredictView(APIView):
    renderer_classes = [TimedJSONRenderer, BrowsableAPIRenderer]

    @extend_schema(
        operation_id="project_predict",
        summary="Predict with the project's current model",
        description=(
            "Scores per label, thresholded labels and spans from the project's current model "
            f"version, at most {service.MAX_ITEMS_PER_REQUEST} items per request. Send "
            '`{"texts": [...]}` or `{"items": [{"text": ..., "image": <base64>}]}`. '
            "Optional `model_version` pins a version of this project (400 when not an id, 404 "
            "when not this project's). Any project member may predict; authenticate with "
            "`Authorization: Token <key>` or a project API key with the predict scope "
            "(`Authorization: Api-Key <key>`)."
        ),
        request=_predict_request,
        responses={
            200: _predict_response,
            400: OpenApiResponse(_error_list, description="Bad item(s), named by index"),
            401: OpenApiResponse(_detail, description="Not authenticated"),
            404: OpenApiResponse(_detail, description="Unknown project, not a member, or a pinned version of another project"),
            409: OpenApiResponse(_detail, description="The project has no current model"),
            413: OpenApiResponse(_detail, description="More items than the per-request limit"),
            503: OpenApiResponse(_detail, description="The current model cannot be loaded"),
        },
        examples=[
            OpenApiExample(
                "texts", value={"texts": ["Flooding on 5th street", "nice day"]}, request_only=True
            ),
            OpenApiExample(
                "answer",
                value={
                    "model_version": 7,
                    "backend": "embedding_head",
                    "thresholds": {"on-topic": 0.45},
                    "predictions": [
                        {"scores": {"on-topic": 0.93}, "labels": ["on-topic"], "spans": []},
                        {"scores": {"on-topic": 0.08}, "labels": [], "spans": []},
                    ],
                },
                response_only=True,
            ),
        ],
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = service.project_for_prediction(request.user, project_id)
        too_big = _body_too_big(request)
        if too_big is not None:
            return too_big
        try:
            inputs = service.parse_predict_payload(request.data, project.task_type)
            pinned = service.pinned_version_ref(project, request.data.get("model_version"))
        except service.VersionNotInProject as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
        except service.TooManyItems as exc:
            return Response(
                {"detail": str(exc), "limit": exc.limit, "count": exc.count},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        except service.PredictionInputError as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        try:
            result = service.predict_items(project, inputs, version=pinned)
        except NoCurrentModel as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except ModelUnavailable as exc:
            return _unavailable(exc)
        response = Response(result.as_dict())
        # The model's forward; serialisation, database and whole-app times are added by
        # TimedJSONRenderer and ServerTimingMiddleware (config/server_timing.py, docs/benchmarks.md).
        add_metric(response, "model", result.model_seconds)
        return response


class PredictAllView(APIView):
    @extend_schema(
        operation_id="project_predict_all",
        summary="Predict every example of the project (background job)",
        description=(
            "Starts a chunked prediction job (one Celery task `vigia.predict_chunk` per chunk, "
            "shared by every worker) that stores a Prediction for each example with the current "
            "model version (the suggestions in the annotation UI). Resumable: examples the "
            "version already predicted are skipped. `job_url` gives the job's chunks and "
            "progress. Project admins only."
        ),
        request=None,
        responses={
            202: inline_serializer(
                "PredictAllAccepted",
                {
                    "job": serializers.IntegerField(),
                    "model_version": serializers.IntegerField(),
                    "chunks": serializers.IntegerField(),
                    "status_url": serializers.CharField(),
                    "job_url": serializers.CharField(),
                },
            ),
            403: OpenApiResponse(_detail, description="Not an admin of the project"),
            404: OpenApiResponse(_detail, description="Unknown project or not a member"),
            409: OpenApiResponse(_detail, description="The project has no current model"),
        },
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.ADMIN)
        try:
            job = service.start_project_prediction(project)
        except NoCurrentModel as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        job["status_url"] = request.build_absolute_uri(
            f"/api/v1/projects/{project.pk}/predictions/status?model_version={job['model_version']}"
        )
        job["job_url"] = request.build_absolute_uri(f"/api/v1/prediction-jobs/{job['job']}")
        return Response(job, status=status.HTTP_202_ACCEPTED)


class PredictionStatusView(APIView):
    @extend_schema(
        operation_id="project_predictions_status",
        summary="How many examples have stored predictions from a model version",
        parameters=[
            OpenApiParameter(
                "model_version",
                OpenApiTypes.INT,
                required=False,
                description="A version of this project; default: the current one",
            )
        ],
        responses={
            200: _status_response,
            400: OpenApiResponse(_detail, description="model_version is not an integer"),
            404: OpenApiResponse(_detail, description="Unknown project/version or not a member"),
        },
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.VIEWER)
        raw = request.query_params.get("model_version")
        version_id: int | None = None
        if raw not in (None, ""):
            try:
                version_id = parse_int(raw, "model_version", lo=1)
            except InvalidInput:
                return Response(
                    {"detail": f"model_version must be an integer, got {raw!r}"},
                    status=status.HTTP_400_BAD_REQUEST,
                )
        try:
            body = service.prediction_status(project, version_id)
        except LookupError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
        return Response(body)
