"""Prevalence index route (mounted under /api/v1/); with and without a trailing slash."""

from __future__ import annotations

from annotator.api.project_urls import both
from models_zoo.api import index_views

urlpatterns = [
    *both("projects/<int:project_id>/index", index_views.PrevalenceIndexView, "api-project-index"),
]
