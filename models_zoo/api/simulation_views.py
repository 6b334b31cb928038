"""REST views of active-learning simulations (project admins): start one, read it (JSON or
`?format=csv`). Outsiders 404, other members 403."""
from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.decorators import api_view
from rest_framework.decorators import content_negotiation_class as negotiation_class
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from annotator.api.io_views import _IgnoreFormatOverride
from annotator.models import Role
from annotator.models_simulation import Simulation
from annotator.permissions import get_project_for
from models_zoo.services.simulations import (
    SimulationError,
    create_simulation,
    simulation_csv,
    simulation_payload,
)


@extend_schema(request=OpenApiTypes.OBJECT, responses={202: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT},
               tags=["simulations"],
               summary="Start an active-learning simulation (POST) or list them (GET); admins")
@api_view(["GET", "POST"])
def project_simulations(request: Request, project_id: int) -> Response:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    if request.method == "GET":
        rows = Simulation.objects.filter(project=project)[:50]
        return Response({"simulations": [simulation_payload(s) for s in rows]})
    try:
        simulation = create_simulation(project, request.user, request.data)
    except SimulationError as exc:
        raise ValidationError({exc.field: [exc.message]}) from None
    return Response({"simulation": simulation.pk}, status=202)


@extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["simulations"],
               summary="A simulation: state, progress, start, full_f1, curves, aulc, labels_to_95, "
               "labels_to_target, starts (figures per start, strategy and label with their "
               "spread over seeds) (?format=csv for the curves as CSV); admins")
@api_view(["GET"])
@negotiation_class(_IgnoreFormatOverride)
def simulation_detail(request: Request, simulation_id: int) -> Response | HttpResponse:
    simulation = Simulation.objects.filter(pk=simulation_id).first()
    if simulation is None:
        raise Http404("No such simulation.")
    get_project_for(request.user, simulation.project_id, Role.ADMIN)
    if request.query_params.get("format") == "csv":
        response = HttpResponse(simulation_csv(simulation), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="simulation-{simulation.pk}.csv"'
        return response
    return Response(simulation_payload(simulation))
