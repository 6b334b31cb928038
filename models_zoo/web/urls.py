"""Pages of training runs and model versions (mounted at /models/)."""
from __future__ import annotations

from django.urls import path

from models_zoo.web import plot_views, views

urlpatterns = [
    path("", views.project_picker, name="models-projects"),
    path("projects/<int:project_id>/runs/", views.runs_page, name="models-runs"),
    path("projects/<int:project_id>/runs/config-fields", views.config_fields, name="models-config-fields"),
    path("projects/<int:project_id>/runs/start", views.start_run, name="models-start-run"),
    path("projects/<int:project_id>/versions/", views.versions_page, name="models-versions"),
    path("projects/<int:project_id>/settings", views.policy_settings, name="models-policy"),
    path("runs/<int:run_id>/", views.run_detail, name="models-run"),
    path("runs/<int:run_id>/progress", views.run_progress, name="models-run-progress"),
    path("runs/<int:run_id>/cancel", views.run_cancel, name="models-run-cancel"),
    path("versions/<int:version_id>/", views.version_detail, name="models-version"),
    path("versions/<int:version_id>/promote", plot_views.promote, name="models-promote"),
    # Issue 13: versions side by side, the attention view, the embedding map.
    path("projects/<int:project_id>/compare/", plot_views.compare, name="models-compare"),
    path("projects/<int:project_id>/prediction-refresh", plot_views.prediction_refresh,
         name="models-prediction-refresh"),
    path("versions/<int:version_id>/explain/", plot_views.explain, name="models-explain"),
    path("projects/<int:project_id>/map/", plot_views.embedding_map, name="models-map"),
]
