"""REST edge of the embedding store and similarity search (project admins only): parse the
request, call annotator.services.embeddings / similarity, shape the answer."""
from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.errors import api_error
from annotator.models import EmbeddingSet, Example, Project, Role
from annotator.permissions import get_project_for
from annotator.services import similarity
from annotator.services.embeddings import ready_embedding_set, request_embedding_set
from annotator.services.projects import ProjectRuleError

_detail = inline_serializer("EmbeddingDetail", {"detail": serializers.CharField()})
class EmbeddingSetSerializer(serializers.Serializer):
    """Schema only: what `set_summary` returns."""

    id = serializers.IntegerField()
    encoder = serializers.CharField()
    state = serializers.ChoiceField(choices=["queued", "running", "ready", "failed"])
    progress = serializers.FloatField()
    count = serializers.IntegerField()
    dim = serializers.IntegerField(allow_null=True)
    dtype = serializers.CharField()
    error = serializers.CharField()
    updated_at = serializers.DateTimeField()


_hits = inline_serializer(
    "SimilarityResults",
    {
        "embedding_set": serializers.IntegerField(),
        "encoder": serializers.CharField(),
        "count": serializers.IntegerField(),
        "results": inline_serializer(
            "SimilarityHit",
            {"example": serializers.IntegerField(), "text": serializers.CharField(),
             "score": serializers.FloatField()},
            many=True,
        ),
    },
)
_common = {
    403: OpenApiResponse(_detail, description="Not an admin of the project"),
    404: OpenApiResponse(_detail, description="Unknown project/example or not a member"),
}


def set_summary(s: EmbeddingSet) -> dict[str, Any]:
    return {"id": s.pk, "encoder": s.encoder, "state": s.state, "progress": round(s.progress, 4),
            "count": s.count, "dim": s.dim, "dtype": s.dtype, "error": s.error,
            "updated_at": s.updated_at}


def _body(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise ProjectRuleError("the body must be a JSON object", field="non_field_errors")
    return request.data


def _encoder_param(raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise ProjectRuleError("must be a string (a model name or a local directory)", field="encoder")
    return raw


def _hits_response(project: Project, encoder: str | None, results: list[dict[str, Any]]) -> Response:
    used = ready_embedding_set(project, encoder)
    return Response({"embedding_set": used.pk if used else None,
                     "encoder": used.encoder if used else encoder, "count": len(results),
                     "results": results})


class EmbeddingSetsView(APIView):
    @extend_schema(operation_id="project_embeddings_list", summary="The project's embedding sets",
                   responses={200: EmbeddingSetSerializer(many=True), **_common})
    def get(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.ADMIN)
        return Response([set_summary(s) for s in project.embedding_sets.order_by("pk")])

    @extend_schema(
        operation_id="project_embeddings_compute",
        summary="Compute (or bring up to date) the embeddings of every example",
        description=("Queues one Celery task `vigia.embed_chunk` per chunk of examples not "
                     "embedded yet; `encoder` defaults to the packaged all-MiniLM-L6-v2 "
                     "(`default`). Returns at once; watch `GET .../embeddings`."),
        request=inline_serializer("EmbeddingRequest", {"encoder": serializers.CharField(required=False)}),
        responses={202: inline_serializer("EmbeddingAccepted", {"embedding_set": serializers.IntegerField()}),
                   400: OpenApiResponse(_detail, description="Bad encoder"), **_common},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.ADMIN)
        try:
            encoder = _encoder_param(_body(request).get("encoder"))
            embedding_set = request_embedding_set(project, encoder)
        except ProjectRuleError as exc:
            raise api_error(exc) from None
        return Response({"embedding_set": embedding_set.pk, **set_summary(embedding_set)},
                        status=status.HTTP_202_ACCEPTED)


class SimilarExamplesView(APIView):
    @extend_schema(
        operation_id="project_example_similar",
        summary="Examples most similar to this one (cosine over the embedding store)",
        parameters=[
            OpenApiParameter("k", OpenApiTypes.INT, required=False, description="1..100, default 10"),
            OpenApiParameter("encoder", OpenApiTypes.STR, required=False, description="default: `default`"),
        ],
        responses={200: _hits, 400: OpenApiResponse(_detail, description="Bad k"),
                   409: OpenApiResponse(_detail, description="No ready embedding set"), **_common},
    )
    def get(self, request: Request, project_id: int, example_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.ADMIN)
        example = Example.objects.filter(project=project, pk=example_id).first()
        if example is None:
            raise Http404("No such example in this project.")
        try:
            k = similarity.parse_k(request.query_params.get("k"))
            encoder = _encoder_param(request.query_params.get("encoder"))
            results = similarity.similar_examples(project, example, k, encoder)
        except ProjectRuleError as exc:
            raise api_error(exc) from None
        return _hits_response(project, encoder, results)


class SemanticSearchView(APIView):
    @extend_schema(
        operation_id="project_semantic_search",
        summary="Examples most similar to a free text",
        request=inline_serializer("SemanticSearchRequest", {
            "text": serializers.CharField(), "k": serializers.IntegerField(required=False),
            "encoder": serializers.CharField(required=False)}),
        responses={200: _hits, 400: OpenApiResponse(_detail, description="Bad text or k"),
                   409: OpenApiResponse(_detail, description="No ready embedding set"), **_common},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.ADMIN)
        try:
            body = _body(request)
            text = similarity.parse_query_text(body.get("text"))
            k = similarity.parse_k(body.get("k"))
            encoder = _encoder_param(body.get("encoder"))
            results = similarity.semantic_search(project, text, k, encoder)
        except ProjectRuleError as exc:
            raise api_error(exc) from None
        return _hits_response(project, encoder, results)
