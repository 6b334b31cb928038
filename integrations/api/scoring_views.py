"""REST: batch scoring jobs (any member; API keys with the predict scope).

- POST /api/v1/projects/{id}/scoring-jobs multipart {file, format?, output_format?, model_version?,
  chunk_size?} -> 202 job
- GET  /api/v1/projects/{id}/scoring-jobs; GET /api/v1/scoring-jobs/{id} (progress)
- GET  /api/v1/scoring-jobs/{id}/results -> the JSONL or CSV file (410 once expired; 503 when
  the shared store cannot serve it)
- POST /api/v1/scoring-jobs/{id}/cancel | /resume
"""
from __future__ import annotations

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.parsers import SafeFormParser, SafeMultiPartParser
from annotator.models import Role
from annotator.permissions import get_project_for
from config.enqueue import BrokerUnavailable
from config.openapi import OBJECT_LIST
from config.storage import StorageError
from integrations.api.common import object_in_project
from integrations.models.scoring import ScoringJob, ScoringState
from integrations.scoring import service
from integrations.scoring.inputs import ScoringInputError


def _body(request: Request, job: ScoringJob) -> dict:
    url = request.build_absolute_uri(reverse("api-scoring-job-results", args=[job.pk]))
    return service.job_body(job, url)


class ProjectScoringJobs(APIView):
    parser_classes = (SafeMultiPartParser, SafeFormParser)

    @extend_schema(tags=["scoring"], summary="The project's scoring jobs, newest first",
                   responses={200: OBJECT_LIST})
    def get(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.VIEWER)
        service.expire_scoring_results()
        return Response([_body(request, j) for j in project.scoring_jobs.all()[:50]])

    @extend_schema(
        tags=["scoring"],
        summary="Score a file of texts with a model version (default: the current one)",
        description=("multipart `file`: JSONL (one {\"text\", \"id\"?} object per line) or CSV (a "
                     "`text` column, optional `id`); `format` jsonl|csv (default: from the file "
                     "name); `output_format` jsonl (default) or csv; `model_version`; "
                     "`chunk_size`. The texts are not stored as examples. 202 with the job; "
                     "400 naming the line or field; 404 for a version of another project; 409 "
                     "without a current version; 503 when the task queue is down or the "
                     "shared store refuses the chunks."),
        request={"multipart/form-data": OpenApiTypes.OBJECT}, responses={202: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = get_project_for(request.user, project_id, Role.VIEWER)
        data = request.data
        try:
            job = service.start_scoring_job(
                project, request.FILES.get("file"), fmt=data.get("format"),
                output_format=data.get("output_format"), model_version=data.get("model_version"),
                chunk_size=data.get("chunk_size"), user=request.user,
            )
        except service.ScoringRequestError as exc:
            return Response({exc.field: [exc.message]}, status=exc.status)
        except ScoringInputError as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        except BrokerUnavailable as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(_body(request, job), status=status.HTTP_202_ACCEPTED)


class ScoringJobDetail(APIView):
    @extend_schema(tags=["scoring"], summary="Progress of a scoring job", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, scoring_job_id: int) -> Response:
        service.expire_scoring_results()
        job = object_in_project(ScoringJob, scoring_job_id, request.user, Role.VIEWER)
        return Response(_body(request, job))


class ScoringJobResults(APIView):
    @extend_schema(tags=["scoring"], summary="Download the results (JSONL or CSV)",
                   responses={(200, "application/x-ndjson"): OpenApiTypes.BINARY})
    def get(self, request: Request, scoring_job_id: int):
        service.expire_scoring_results()
        job = object_in_project(ScoringJob, scoring_job_id, request.user, Role.VIEWER)
        if job.state == ScoringState.EXPIRED:
            when = f" at {job.expires_at.isoformat()}" if job.expires_at else ""
            return Response({"detail": f"the results of scoring job {job.pk} expired{when} and were removed"},
                            status=status.HTTP_410_GONE)
        try:
            handle, content_type = service.open_results(job)
        except FileNotFoundError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except StorageError as exc:  # the store is unreachable, or the object is not the job's
            return Response({"detail": f"the results of scoring job {job.pk} cannot be read from "
                                       f"the shared store: {exc}"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        name = f"scoring-{job.pk}-v{job.model_version_id}.{job.output_format}"
        return FileResponse(handle, content_type=content_type, as_attachment=True, filename=name)


class ScoringJobCancel(APIView):
    @extend_schema(tags=["scoring"], summary="Cancel a running scoring job", request=None,
                   responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, scoring_job_id: int) -> Response:
        job = object_in_project(ScoringJob, scoring_job_id, request.user, Role.VIEWER)
        return Response(_body(request, service.cancel_scoring_job(job)))


class ScoringJobResume(APIView):
    @extend_schema(tags=["scoring"], summary="Send the chunks that are not done again (a lost worker)",
                   request=None, responses={202: OpenApiTypes.OBJECT})
    def post(self, request: Request, scoring_job_id: int) -> Response:
        job = object_in_project(ScoringJob, scoring_job_id, request.user, Role.VIEWER)
        try:
            job = service.resume_scoring_job(job)
        except service.ScoringRequestError as exc:
            return Response({"detail": exc.message}, status=exc.status)
        except BrokerUnavailable as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(_body(request, job), status=status.HTTP_202_ACCEPTED)
