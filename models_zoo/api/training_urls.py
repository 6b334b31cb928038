"""Training runs, model versions and backends (mounted under /api/v1/)."""
from __future__ import annotations

from django.urls import path

from models_zoo.api import training_views as views

urlpatterns = [
    path("projects/<int:project_id>/train", views.train, name="api-train"),
    path("projects/<int:project_id>/runs/", views.project_runs, name="api-project-runs"),
    path("projects/<int:project_id>/models/", views.project_models, name="api-project-models"),
    path("runs/<int:run_id>", views.run_detail, name="api-run-detail"),
    path("runs/<int:run_id>/", views.run_detail_slash),
    path("runs/<int:run_id>/cancel", views.run_cancel, name="api-run-cancel"),
    path("models/<int:version_id>/", views.model_detail, name="api-model-detail"),
    path("models/<int:version_id>/promote", views.model_promote, name="api-model-promote"),
    path("backends/", views.backends, name="api-backends"),
]
