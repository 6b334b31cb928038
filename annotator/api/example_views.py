"""REST views for a project's examples and the annotations on one example.

Members read; admins add, edit and delete examples; annotators and admins write their own
annotation through `annotator.services.annotations` (the same path as the annotation page).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api import serializers as s
from annotator.api.errors import api_error
from annotator.api.pagination import StandardPagination
from annotator.api.permissions import (
    MembersReadAdminsWrite,
    MembersReadAnnotatorsWrite,
    project_for_view,
)
from annotator.filters import ExampleFilter
from annotator.images.examples import delete_images_on_commit
from annotator.models import Annotation, Example
from annotator.services.annotations import (
    AnnotationInvalid,
    delete_annotation,
    save_annotation_result,
)
from annotator.services.example_edits import (
    DuplicateExample,
    ExampleInvalid,
    create_example,
    update_example,
)
from annotator.visibility import visible_annotations

DUPLICATE = OpenApiResponse(
    s.DuplicateExampleSerializer, description="Same normalized text as an existing example."
)


def duplicate_response(exc: DuplicateExample) -> Response:
    return Response(
        {"detail": str(exc), "existing_id": exc.existing_id}, status=status.HTTP_409_CONFLICT
    )


class ExampleQuerysetMixin:
    """Examples of the URL's project with annotation counts and the caller's own annotation
    prefetched (a page costs a fixed number of queries)."""

    request: Request

    def get_queryset(self) -> QuerySet[Example]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request project
            return Example.objects.none()
        project = project_for_view(self.request, self)
        mine = Prefetch(
            "annotations",
            queryset=Annotation.objects.filter(user=self.request.user).select_related("user"),
            to_attr="mine",
        )
        # A correlated subquery, not Count() over a join: it runs for the page's rows only, and
        # the paginator's COUNT(*) over a million examples stays a plain index scan.
        counted = (
            Annotation.objects.filter(example=OuterRef("pk"))
            .filter(visible_annotations(project, self.request.user))  # annotators: own only
            .order_by()
            .values("example")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            Example.objects.filter(project=project)
            .annotate(n_annotations=Coalesce(Subquery(counted, output_field=IntegerField()), 0))
            .prefetch_related(mine)
            .order_by("id")
        )


@extend_schema_view(
    get=extend_schema(tags=["examples"], summary="Examples, paginated and filtered"),
    post=extend_schema(
        tags=["examples"],
        summary="Add one example (admins); normalized and hashed like imports",
        request=s.ExampleWriteSerializer,
        responses={201: s.ExampleSerializer, 409: DUPLICATE},
    ),
)
class ExampleListCreate(ExampleQuerysetMixin, generics.ListCreateAPIView):
    serializer_class = s.ExampleSerializer
    permission_classes = [IsAuthenticated, MembersReadAdminsWrite]
    filterset_class = ExampleFilter
    pagination_class = StandardPagination

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = project_for_view(request, self)
        data = s.ExampleWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            example = create_example(project, **data.validated_data)
        except DuplicateExample as exc:
            return duplicate_response(exc)
        except ExampleInvalid as exc:
            raise api_error(exc) from None
        example = self.get_queryset().get(pk=example.pk)
        return Response(
            s.ExampleSerializer(example, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    get=extend_schema(
        tags=["examples"], summary="One example with the annotations the caller may see"
    ),
    patch=extend_schema(
        tags=["examples"],
        summary="Edit text, external id, metadata or the image (admins)",
        request=s.ExampleEditSerializer(partial=True),
        responses={200: s.ExampleDetailSerializer, 409: DUPLICATE},
    ),
    delete=extend_schema(tags=["examples"], summary="Delete an example and its annotations"),
)
class ExampleDetail(ExampleQuerysetMixin, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.ExampleDetailSerializer
    permission_classes = [IsAuthenticated, MembersReadAdminsWrite]
    http_method_names = ["get", "patch", "delete", "head", "options"]
    lookup_url_kwarg = "example_id"

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if "example_id" in self.kwargs and self.request.method != "DELETE":
            project = project_for_view(self.request, self)
            context["visible_annotations"] = (
                Annotation.objects.filter(example_id=self.kwargs["example_id"])
                .filter(visible_annotations(project, self.request.user))
                .select_related("user")
                .order_by("id")
            )
        return context

    def perform_destroy(self, instance: Example) -> None:
        delete_images_on_commit([instance.image.name])  # and its thumbnail
        instance.delete()

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        example = self.get_object()
        data = s.ExampleEditSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            update_example(example, **data.validated_data)
        except DuplicateExample as exc:
            return duplicate_response(exc)
        except ExampleInvalid as exc:
            raise api_error(exc) from None
        return Response(self.get_serializer(self.get_object()).data)


@extend_schema_view(
    get=extend_schema(
        tags=["annotations"],
        summary="Annotations on the example (admins and viewers: all; annotators: own + imported)",
        responses=s.AnnotationSerializer(many=True),
    ),
    post=extend_schema(
        tags=["annotations"],
        summary="Create (201) or replace (200) the caller's annotation (annotators, admins)",
        request=s.AnnotationInputSerializer,
        responses={201: s.AnnotationSerializer, 200: s.AnnotationSerializer},
    ),
    delete=extend_schema(
        tags=["annotations"],
        summary="Undo: remove the caller's annotation; the example returns to their queue",
        responses={204: None, 404: OpenApiResponse(s.DetailSerializer)},
    ),
)
class ExampleAnnotations(APIView):
    permission_classes = [IsAuthenticated, MembersReadAnnotatorsWrite]

    def get_example(self) -> Example:
        project = project_for_view(self.request, self)
        example = get_object_or_404(Example, project=project, pk=self.kwargs["example_id"])
        example.project = project  # keeps current_role; saves a query in the service
        return example

    def get(self, request: Request, project_id: int, example_id: int) -> Response:
        example = self.get_example()
        rows = (
            example.annotations.filter(visible_annotations(example.project, request.user))
            .select_related("user")
            .order_by("id")
        )
        return Response(s.AnnotationSerializer(rows, many=True).data)

    def post(self, request: Request, project_id: int, example_id: int) -> Response:
        example = self.get_example()
        decision = s.AnnotationInputSerializer.decision(request.data)
        try:
            result = save_annotation_result(user=request.user, example=example, **decision)
        except AnnotationInvalid as exc:
            raise api_error(exc) from None
        return Response(
            s.AnnotationSerializer(result.annotation).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    def delete(self, request: Request, project_id: int, example_id: int) -> Response:
        example = self.get_example()
        if not example.annotations.filter(user=request.user).exclude(source="adjudicated").exists():
            return Response(
                {"detail": "You have no annotation on this example."},
                status=status.HTTP_404_NOT_FOUND,
            )
        delete_annotation(user=request.user, example=example)
        return Response(status=status.HTTP_204_NO_CONTENT)
