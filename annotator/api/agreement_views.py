"""REST: the agreement report, adjudication of a disagreement, and undo of the last decision.

Thin edges over annotator.services.agreement, .adjudication and .annotations.
"""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api import serializers as s
from annotator.api.errors import api_error
from annotator.api.permissions import IsProjectAdmin, IsProjectAnnotator, project_for_view
from annotator.models import Example
from annotator.services.adjudication import adjudicate
from annotator.services.agreement import agreement_report
from annotator.services.annotations import AnnotationInvalid, undo_last_decision


class PairSerializer(serializers.Serializer):
    a = serializers.CharField(help_text="username")
    b = serializers.CharField(help_text="username")
    kappa = serializers.FloatField(
        allow_null=True, required=False, help_text="Cohen's kappa (classification)"
    )
    f1 = serializers.FloatField(
        allow_null=True, required=False, help_text="entity-level F1 (spans)"
    )
    n = serializers.IntegerField(help_text="examples both annotated")


class LabelAgreementSerializer(serializers.Serializer):
    alpha = serializers.FloatField(allow_null=True, help_text="Krippendorff's alpha, nominal")
    pairs = PairSerializer(many=True)


class AnnotatorFiguresSerializer(serializers.Serializer):
    username = serializers.CharField()
    decisions = serializers.IntegerField()
    sessions = serializers.IntegerField()
    active_hours = serializers.FloatField()
    decisions_per_hour = serializers.FloatField(allow_null=True)
    agreement = serializers.FloatField(
        allow_null=True, help_text="n-weighted mean kappa (or F1) with the others"
    )
    suggestions_shown = serializers.IntegerField()
    suggestions_accepted_unchanged = serializers.IntegerField()
    accepted_unchanged_share = serializers.FloatField(allow_null=True)


class AgreementSerializer(serializers.Serializer):
    task_type = serializers.CharField()
    measure = serializers.ChoiceField(choices=["kappa", "f1"])
    labels = serializers.DictField(child=LabelAgreementSerializer())
    overall = LabelAgreementSerializer()
    annotators = AnnotatorFiguresSerializer(many=True)


class UndoSerializer(serializers.Serializer):
    example_id = serializers.IntegerField()
    skipped = serializers.BooleanField(help_text="the undone decision was a skip")


class ProjectAgreement(APIView):
    permission_classes = [IsAuthenticated, IsProjectAdmin]

    @extend_schema(
        tags=["agreement"],
        summary="Inter-annotator agreement per label and overall, and per-annotator figures",
        responses=AgreementSerializer,
    )
    def get(self, request: Request, project_id: int) -> Response:
        return Response(agreement_report(project_for_view(request, self)))


class ExampleAdjudicate(APIView):
    permission_classes = [IsAuthenticated, IsProjectAdmin]

    @extend_schema(
        tags=["agreement"],
        summary="Store the final labels or spans of an example (source adjudicated; wins in training)",
        request=s.AnnotationInputSerializer,
        responses={200: s.AnnotationSerializer},
    )
    def post(self, request: Request, project_id: int, example_id: int) -> Response:
        project = project_for_view(request, self)
        example = get_object_or_404(Example, project=project, pk=example_id)
        example.project = project
        decision = s.AnnotationInputSerializer.decision(request.data)
        try:
            annotation = adjudicate(user=request.user, example=example, **decision)
        except AnnotationInvalid as exc:
            raise api_error(exc) from None
        return Response(s.AnnotationSerializer(annotation).data)


class ProjectUndo(APIView):
    permission_classes = [IsAuthenticated, IsProjectAnnotator]

    @extend_schema(
        tags=["annotations"],
        summary="Undo the caller's latest decision (annotation or skip) in the project",
        request=None,
        responses={200: UndoSerializer, 404: OpenApiResponse(s.DetailSerializer)},
    )
    def post(self, request: Request, project_id: int) -> Response:
        last = undo_last_decision(project_for_view(request, self), request.user)
        if last is None:
            return Response(
                {"detail": "You have no decision to undo in this project."},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response({"example_id": last.example.pk, "skipped": last.skipped})
