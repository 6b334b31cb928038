"""REST views of difficult-negative mining and negatives experiments (project admins only):
parse, check the role, call annotator.mining, answer. Outsiders 404, other members 403."""
from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from annotator.api.pagination import StandardPagination
from annotator.mining.algorithm import MiningError
from annotator.mining.proposals import band_figures, serve_in_queue
from annotator.models import Role
from annotator.models_mining import MiningRun, NegativesExperiment
from annotator.permissions import get_project_for
from models_zoo.mining.experiment_service import create_experiment, experiment_payload
from models_zoo.mining.service import create_mining_run, run_payload


def _bad(exc: MiningError) -> ValidationError:
    return ValidationError({exc.field: [exc.message]})


def _run_for(request: Request, run_id: int) -> MiningRun:
    run = MiningRun.objects.filter(pk=run_id).first()
    if run is None:
        raise Http404("No such mining run.")
    get_project_for(request.user, run.project_id, Role.ADMIN)
    return run


@extend_schema(request=OpenApiTypes.OBJECT, responses={202: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT},
               summary="Mine difficult negatives (POST) or list mining runs (GET); admins")
@api_view(["GET", "POST"])
def project_mining(request: Request, project_id: int) -> Response:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    if request.method == "GET":
        runs = MiningRun.objects.filter(project=project)
        return Response({"runs": [run_payload(r) for r in runs[:100]],
                         "bands": band_figures(runs)})
    if not isinstance(request.data, dict):
        raise ValidationError({"non_field_errors": ["expected a JSON object"]})
    try:
        run = create_mining_run(project, request.user, request.data)
    except MiningError as exc:
        raise _bad(exc) from None
    return Response({"mining_run": run.pk}, status=202)


@extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="A mining run (admins)")
@api_view(["GET"])
def mining_detail(request: Request, mining_run_id: int) -> Response:
    run = _run_for(request, mining_run_id)
    body = run_payload(run)
    body["bands"] = band_figures(MiningRun.objects.filter(pk=run.pk))
    return Response(body)


@extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="A mining run's proposals, paginated (admins)")
@api_view(["GET"])
def mining_proposals(request: Request, mining_run_id: int) -> Response:
    run = _run_for(request, mining_run_id)
    proposals = run.proposals.select_related("example").order_by("-s_an", "id")
    status = request.query_params.get("status")
    if status:
        proposals = proposals.filter(status=status)
    paginator = StandardPagination()
    page = paginator.paginate_queryset(proposals, request)
    return paginator.get_paginated_response([
        {"example": p.example_id, "text": p.example.text, "s_an": round(p.s_an, 6),
         "band": p.band, "status": p.status, "decided_by": p.decided_by_id}
        for p in page
    ])


@extend_schema(request=None, responses={200: OpenApiTypes.OBJECT},
               summary="Serve this run's proposals in the annotate queue (admins)")
@api_view(["POST"])
def mining_serve(request: Request, mining_run_id: int) -> Response:
    run = _run_for(request, mining_run_id)
    if run.mode != "propose" or run.state != "succeeded":
        raise ValidationError({"mining_run": ["only a succeeded propose-mode run can serve the queue"]})
    serve_in_queue(run)
    return Response({"mining_run": run.pk, "queue_strategy": "proposals"})


@extend_schema(request=OpenApiTypes.OBJECT, responses={202: OpenApiTypes.OBJECT},
               summary="Start a negatives experiment (admins)")
@api_view(["GET", "POST"])
def project_experiments(request: Request, project_id: int) -> Response:
    project = get_project_for(request.user, project_id, Role.ADMIN)
    if request.method == "GET":
        return Response({"experiments": [
            experiment_payload(e) for e in NegativesExperiment.objects.filter(project=project)[:50]
        ]})
    if not isinstance(request.data, dict):
        raise ValidationError({"non_field_errors": ["expected a JSON object"]})
    try:
        experiment = create_experiment(project, request.user, request.data)
    except MiningError as exc:
        raise _bad(exc) from None
    return Response({"negatives_experiment": experiment.pk}, status=202)


@extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="A negatives experiment (admins)")
@api_view(["GET"])
def experiment_detail(request: Request, experiment_id: int) -> Response:
    experiment = NegativesExperiment.objects.filter(pk=experiment_id).first()
    if experiment is None:
        raise Http404("No such experiment.")
    get_project_for(request.user, experiment.project_id, Role.ADMIN)
    return Response(experiment_payload(experiment))
