"""The REST API's exception handler: DRF's, plus the failures every endpoint shares.

- `config.inputs.InvalidInput` (a number or JSON value refused by the shared parsers) is a 400
  `{field: [message]}`, like a serializer's ValidationError.
- `config.enqueue.BrokerUnavailable` (the task queue refused a message) is a 503 `{"detail"}`
  with `Retry-After`; the service has already removed its row or marked it failed.

A dropped database connection is left to `config.resilience.DependencyFailureMiddleware`, which
retries reads and answers 503 otherwise.
"""
from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.enqueue import BrokerUnavailable
from config.inputs import InvalidInput
from config.resilience import broker_message


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service Vigia depends on is unavailable; try again shortly."
    default_code = "service_unavailable"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler after mapping the shared failures to their HTTP answers."""
    if isinstance(exc, InvalidInput):
        exc = ValidationError(exc.as_dict())
    elif isinstance(exc, BrokerUnavailable):
        exc = ServiceUnavailable(broker_message(exc))
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response["Retry-After"] = "5"
    return response
