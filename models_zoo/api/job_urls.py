"""Chunked prediction job routes (mounted under /api/v1/); with and without a trailing slash."""

from __future__ import annotations

from annotator.api.project_urls import both
from models_zoo.api import job_views

urlpatterns = [
    *both(
        "projects/<int:project_id>/prediction-jobs",
        job_views.ProjectPredictionJobs,
        "api-project-prediction-jobs",
    ),
    *both("prediction-jobs/<int:prediction_job_id>", job_views.PredictionJobDetail, "api-prediction-job"),
    *both(
        "prediction-jobs/<int:prediction_job_id>/cancel",
        job_views.PredictionJobCancel,
        "api-prediction-job-cancel",
    ),
    *both(
        "prediction-jobs/<int:prediction_job_id>/resume",
        job_views.PredictionJobResume,
        "api-prediction-job-resume",
    ),
]
