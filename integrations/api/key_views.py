"""REST: project API keys (admins).

- POST /api/v1/projects/{id}/api-keys {name, scopes, expires_at?} -> 201 {id, key, ...}; the key
  is in this answer only
- GET  /api/v1/projects/{id}/api-keys -> the keys without secrets
- DELETE /api/v1/api-keys/{id} -> revoke
"""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.models import Role
from annotator.permissions import get_project_for
from config.openapi import OBJECT_LIST
from integrations.api.common import field_error, object_in_project
from integrations.api_keys import service
from integrations.models.api_keys import ApiKey


class ProjectApiKeys(APIView):
    @extend_schema(tags=["api keys"], summary="The project's API keys, without secrets (admins)",
                   responses={200: OBJECT_LIST})
    def get(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.ADMIN)
        return Response([service.key_body(k) for k in service.keys_of(project)])

    @extend_schema(
        tags=["api keys"],
        summary="Create an API key: {name, scopes, expires_at?} -> 201 with the key, shown once",
        description=("Scopes: predict (predict, scoring jobs), read (project, examples, "
                     "annotations, versions, runs, index, samples, prediction jobs), import, "
                     "export. Clients send `Authorization: Api-Key <key>`."),
        request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.ADMIN)
        data = request.data if isinstance(request.data, dict) else {}
        try:
            created = service.create_api_key(
                project, name=data.get("name"), scopes=data.get("scopes"),
                expires_at=data.get("expires_at"), created_by=request.user,
            )
        except service.ApiKeyError as exc:
            return field_error(exc.field, exc.message)
        body = {**service.key_body(created.api_key), "key": created.key}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyDetail(APIView):
    @extend_schema(tags=["api keys"], summary="Revoke an API key (admins)", responses={204: None})
    def delete(self, request: Request, api_key_id: int) -> Response:
        api_key = object_in_project(ApiKey, api_key_id, request.user, Role.ADMIN)
        service.revoke_api_key(api_key)
        return Response(status=status.HTTP_204_NO_CONTENT)
