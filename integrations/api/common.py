"""Helpers shared by the integrations REST views."""
from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.http import Http404
from rest_framework import status
from rest_framework.response import Response

from annotator.permissions import get_project_for

M = TypeVar("M", bound=models.Model)
_MAX_ID = 2**63 - 1


def object_in_project(model: type[M], pk: int, user: Any, role: str, **related: Any) -> M:
    """The row `pk` of `model` if `user` holds `role` in its project: 404 for unknown ids and
    outsiders, 403 below the role (annotator.permissions)."""
    row = model.objects.filter(pk=pk).first() if 0 < int(pk) <= _MAX_ID else None
    if row is None:
        raise Http404("No such object.")
    get_project_for(user, row.project_id, role)  # type: ignore[attr-defined]
    return row


def field_error(field: str, message: str, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({field: [message]}, status=code)
