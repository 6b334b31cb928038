"""Turn service-layer rule errors into DRF responses: malformed input is 400 with the field
named, a clash with the project's current state is 409."""

from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

from annotator.services.annotations import AnnotationInvalid
from annotator.services.example_edits import ExampleInvalid
from annotator.services.projects import ProjectRuleError


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the project's current state."
    default_code = "conflict"


def api_error(exc: ProjectRuleError | AnnotationInvalid | ExampleInvalid) -> APIException:
    """The DRF exception to raise for a service error."""
    if getattr(exc, "conflict", False):
        return Conflict(exc.message)
    return ValidationError({exc.field: [exc.message]})
