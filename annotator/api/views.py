"""REST views for projects, labels, members and the caller (`/me`).

Thin edges: each view checks the caller's role (annotator.api.permissions), parses input with a
serializer and calls a service in `annotator.services.projects`. Examples and annotations live
in `example_views.py`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api import serializers as s
from annotator.api.errors import api_error
from annotator.api.pagination import StandardPagination
from annotator.api.permissions import MembersReadAdminsWrite, project_for_view
from annotator.filters import ProjectFilter
from annotator.models import Label, Membership, Project, Role
from annotator.permissions import visible_projects
from annotator.services import projects as project_service
from annotator.services.project_setup import delete_project
from annotator.services.projects import ProjectRuleError

CONFLICT = OpenApiResponse(s.DetailSerializer, description="Conflicts with the project's state.")


def roles_of(user: Any) -> dict[int, str] | RolesOfSuperuser:
    """The caller's role per project id (superusers: admin everywhere)."""
    if user.is_superuser:
        return RolesOfSuperuser()
    return dict(Membership.objects.filter(user=user).values_list("project_id", "role"))


class RolesOfSuperuser(dict):
    """Role map of a superuser: admin of every project."""

    def get(self, key: Any, default: Any = None) -> str:
        return Role.ADMIN

    def __getitem__(self, key: Any) -> str:
        return Role.ADMIN


@extend_schema_view(
    get=extend_schema(tags=["projects"], summary="Projects the caller can see"),
    post=extend_schema(
        tags=["projects"],
        summary="Create a project with its labels; the caller becomes its admin",
        request=s.ProjectCreateSerializer,
        responses={201: s.ProjectSerializer},
    ),
)
class ProjectListCreate(generics.ListCreateAPIView):
    serializer_class = s.ProjectSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = ProjectFilter
    pagination_class = StandardPagination

    def get_queryset(self) -> QuerySet[Project]:
        rows = visible_projects(self.request.user).select_related("created_by")
        return rows.prefetch_related("labels").distinct()

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["roles"] = roles_of(self.request.user)
        return context

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = self.get_serializer_context()
        # Counts for the whole page in two grouped queries instead of three per project.
        roles = context["roles"]
        context["counts"] = project_service.project_counts(
            [p.pk for p in page], user_id=request.user.pk,
            own_only=[p.pk for p in page if roles.get(p.pk) == Role.ANNOTATOR],
        )
        body = s.ProjectSerializer(page, many=True, context=context).data
        return self.get_paginated_response(body)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.ProjectCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            project = project_service.create_project(creator=request.user, **data.validated_data)
        except ProjectRuleError as exc:
            raise api_error(exc) from None
        project.current_role = Role.ADMIN
        return Response(s.ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(tags=["projects"], summary="A project with labels, counts and your role"),
    patch=extend_schema(
        tags=["projects"],
        summary="Change project settings (admins)",
        request=s.ProjectUpdateSerializer,
        responses={200: s.ProjectSerializer, 409: CONFLICT},
    ),
    delete=extend_schema(tags=["projects"], summary="Delete the project and all its data (admins)"),
)
class ProjectDetail(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.ProjectSerializer
    permission_classes = [IsAuthenticated, MembersReadAdminsWrite]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_object(self) -> Project:
        project = project_for_view(self.request, self)
        fresh = Project.objects.prefetch_related("labels").select_related("created_by")
        fresh = fresh.get(pk=project.pk)
        fresh.current_role = project.current_role
        return fresh

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = project_for_view(request, self)
        data = s.ProjectUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            project_service.update_project(project, actor=request.user, **data.validated_data)
        except ProjectRuleError as exc:
            raise api_error(exc) from None
        return Response(s.ProjectSerializer(self.get_object()).data)

    def perform_destroy(self, instance: Project) -> None:
        delete_project(instance)


# --- labels ----------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(tags=["labels"], summary="The project's labels in display order"),
    post=extend_schema(
        tags=["labels"],
        summary="Add a label (admins); shortcut and colour are assigned when omitted",
        responses={201: s.LabelSerializer, 409: CONFLICT},
    ),
)
class LabelListCreate(generics.ListCreateAPIView):
    serializer_class = s.LabelSerializer
    permission_classes = [IsAuthenticated, MembersReadAdminsWrite]
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Label]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request project
            return Label.objects.none()
        return project_for_view(self.request, self).labels.all()

    def perform_create(self, serializer: s.LabelSerializer) -> None:
        project = project_for_view(self.request, self)
        data = dict(serializer.validated_data)
        data.pop("order", None)
        try:
            serializer.instance = project_service.add_label(project, **data)
        except ProjectRuleError as exc:
            raise api_error(exc) from None


@extend_schema_view(
    get=extend_schema(tags=["labels"], summary="One label"),
    patch=extend_schema(
        tags=["labels"],
        summary="Rename, re-key, recolour or reorder a label (admins); renames reach annotations",
        responses={200: s.LabelSerializer, 409: CONFLICT},
    ),
    delete=extend_schema(
        tags=["labels"],
        summary="Delete an unused label (admins)",
        responses={204: None, 409: CONFLICT},
    ),
)
class LabelDetail(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.LabelSerializer
    permission_classes = [IsAuthenticated, MembersReadAdminsWrite]
    http_method_names = ["get", "patch", "delete", "head", "options"]
    lookup_url_kwarg = "label_id"

    def get_queryset(self) -> QuerySet[Label]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request project
            return Label.objects.none()
        return project_for_view(self.request, self).labels.all()

    def perform_update(self, serializer: s.LabelSerializer) -> None:
        try:
            project_service.update_label(serializer.instance, **serializer.validated_data)
        except ProjectRuleError as exc:
            raise api_error(exc) from None

    def perform_destroy(self, instance: Label) -> None:
        try:
            project_service.delete_label(instance)
        except ProjectRuleError as exc:
            raise api_error(exc) from None


# --- members ---------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(tags=["members"], summary="The project's members and their roles"),
    post=extend_schema(
        tags=["members"],
        summary="Add a member by username or user id (admins)",
        request=s.MemberAddSerializer,
        responses={201: s.MembershipSerializer, 409: CONFLICT},
    ),
)
class MemberListCreate(generics.ListCreateAPIView):
    serializer_class = s.MembershipSerializer
    permission_classes = [IsAuthenticated, MembersReadAdminsWrite]
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Membership]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request project
            return Membership.objects.none()
        project = project_for_view(self.request, self)
        return project.memberships.select_related("user").order_by("id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = project_for_view(request, self)
        data = s.MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            membership = project_service.add_member(project, **data.validated_data)
        except ProjectRuleError as exc:
            raise api_error(exc) from None
        return Response(s.MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailPermission(MembersReadAdminsWrite):
    """Admins change anyone; any member may remove themselves (leave the project)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if super().has_permission(request, view):
            return True
        return (
            request.method == "DELETE"
            and Membership.objects.filter(
                pk=view.kwargs.get("member_id"), user=request.user
            ).exists()
        )


@extend_schema_view(
    get=extend_schema(tags=["members"], summary="One membership"),
    patch=extend_schema(
        tags=["members"],
        summary="Change a member's role (admins); the last admin stays admin",
        request=s.MemberUpdateSerializer,
        responses={200: s.MembershipSerializer, 409: CONFLICT},
    ),
    delete=extend_schema(
        tags=["members"],
        summary="Remove a member (admins), or leave the project yourself",
        responses={204: None, 409: CONFLICT},
    ),
)
class MemberDetail(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.MembershipSerializer
    permission_classes = [IsAuthenticated, MemberDetailPermission]
    http_method_names = ["get", "patch", "delete", "head", "options"]
    lookup_url_kwarg = "member_id"

    def get_queryset(self) -> QuerySet[Membership]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request project
            return Membership.objects.none()
        return project_for_view(self.request, self).memberships.select_related("user")

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        data = s.MemberUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            project_service.change_role(membership, data.validated_data["role"])
        except ProjectRuleError as exc:
            raise api_error(exc) from None
        return Response(s.MembershipSerializer(membership).data)

    def perform_destroy(self, instance: Membership) -> None:
        try:
            project_service.remove_member(instance)
        except ProjectRuleError as exc:
            raise api_error(exc) from None


# --- me --------------------------------------------------------------------------------------


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["auth"], summary="The caller, their projects and roles", responses=s.MeSerializer
    )
    def get(self, request: Request) -> Response:
        user = request.user
        roles = roles_of(user)
        projects = [
            {"id": p.pk, "name": p.name, "task_type": p.task_type, "role": roles[p.pk]}
            for p in visible_projects(user).distinct().order_by("id")
        ]
        body = {
            "id": user.pk,
            "username": user.get_username(),
            "email": user.email or "",
            "is_superuser": user.is_superuser,
            "projects": projects,
        }
        return Response(s.MeSerializer(body).data)
