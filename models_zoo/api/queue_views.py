"""REST views of the annotation queue: the registered strategies, and the caller's next example
(the same claim as the annotate page: annotator.services.queue.next_example)."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from annotator.api import serializers as s
from annotator.models import Role
from annotator.permissions import get_project_for
from annotator.services import queue
from annotator.services.queue_strategies import STRATEGIES
from models_zoo.services.queue_scores import why_picked


@extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["queue"],
               summary="Queue strategies the project may use, with descriptions (members)")
@api_view(["GET"])
def queue_strategies(request: Request, project_id: int) -> Response:
    project = get_project_for(request.user, project_id)
    return Response({
        "current": project.queue_strategy,
        "queue_label": project.queue_label,
        "queue_query": project.queue_query,
        "queue_then": project.queue_then,
        "transfer_model_version": project.transfer_model_version_id,
        "strategies": [
            {"name": cls.name, "description": cls.description,
             "needs_label": cls.name == "likely_positive", "needs_query": cls.name == "query"}
            for cls in STRATEGIES.values()
        ],
    })


@extend_schema(request=None, responses={200: OpenApiTypes.OBJECT, 204: None}, tags=["queue"],
               summary="Claim (or resume) the caller's next example: its fields plus reason and "
               "score; 204 when nothing is left (annotators)")
@api_view(["POST"])
def queue_next(request: Request, project_id: int) -> Response:
    project = get_project_for(request.user, project_id, Role.ANNOTATOR)
    example = queue.next_example(project, request.user)
    if example is None:
        return Response(status=204)
    body = dict(s.ExampleSerializer(example, context={"request": request}).data)
    why = why_picked(project, example)
    body.update(reason=why["text"], score=why["score"])
    return Response(body)
