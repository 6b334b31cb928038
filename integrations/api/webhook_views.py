"""REST: webhooks and their deliveries (admins).

- POST /api/v1/projects/{id}/webhooks {url, events} -> 201 {id, secret, ...}
- GET  /api/v1/projects/{id}/webhooks
- GET|DELETE /api/v1/webhooks/{id}; POST /api/v1/webhooks/{id}/enable; POST .../test
- GET  /api/v1/webhooks/{id}/deliveries -> the latest deliveries, newest first
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
from integrations.models.webhooks import Webhook
from integrations.webhooks import service

DELIVERIES_SHOWN = 100


class ProjectWebhooks(APIView):
    @extend_schema(tags=["webhooks"], summary="The project's webhooks (admins)", responses={200: OBJECT_LIST})
    def get(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.ADMIN)
        return Response([service.webhook_body(w) for w in project.webhooks.all()])

    @extend_schema(
        tags=["webhooks"], summary="Register a webhook: {url, events} -> 201 with its secret, shown once",
        description=("Events: model.promoted, training.finished, import.finished, "
                     "prediction_job.finished, index.updated. Each delivery is signed: "
                     "X-Vigia-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + '.' + body)> "
                     "with the timestamp in X-Vigia-Timestamp."),
        request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.ADMIN)
        data = request.data if isinstance(request.data, dict) else {}
        try:
            webhook = service.create_webhook(project, url=data.get("url"), events=data.get("events"),
                                             created_by=request.user)
        except service.WebhookError as exc:
            return field_error(exc.field, exc.message)
        return Response({**service.webhook_body(webhook), "secret": webhook.secret},
                        status=status.HTTP_201_CREATED)


class WebhookDetail(APIView):
    @extend_schema(tags=["webhooks"], summary="A webhook (admins)", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, webhook_id: int) -> Response:
        return Response(service.webhook_body(object_in_project(Webhook, webhook_id, request.user, Role.ADMIN)))

    @extend_schema(tags=["webhooks"], summary="Delete a webhook and its delivery log (admins)",
                   responses={204: None})
    def delete(self, request: Request, webhook_id: int) -> Response:
        service.delete_webhook(object_in_project(Webhook, webhook_id, request.user, Role.ADMIN))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEnable(APIView):
    @extend_schema(tags=["webhooks"], summary="Turn a disabled webhook back on (admins)",
                   request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, webhook_id: int) -> Response:
        webhook = object_in_project(Webhook, webhook_id, request.user, Role.ADMIN)
        return Response(service.webhook_body(service.enable_webhook(webhook)))


class WebhookTest(APIView):
    @extend_schema(tags=["webhooks"], summary="Send a test event (ping) to the webhook (admins)",
                   request=None, responses={202: OpenApiTypes.OBJECT})
    def post(self, request: Request, webhook_id: int) -> Response:
        webhook = object_in_project(Webhook, webhook_id, request.user, Role.ADMIN)
        delivery = service.send_test_event(webhook)
        return Response(service.delivery_body(delivery), status=status.HTTP_202_ACCEPTED)


class WebhookDeliveries(APIView):
    @extend_schema(tags=["webhooks"], summary="The webhook's latest deliveries, newest first (admins)",
                   responses={200: OBJECT_LIST})
    def get(self, request: Request, webhook_id: int) -> Response:
        webhook = object_in_project(Webhook, webhook_id, request.user, Role.ADMIN)
        rows = webhook.deliveries.all()[:DELIVERIES_SHOWN]
        return Response([service.delivery_body(d) for d in rows])
