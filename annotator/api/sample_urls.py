"""Sample routes (mounted under /api/v1/); with and without a trailing slash."""

from __future__ import annotations

from annotator.api import sample_views
from annotator.api.project_urls import both

urlpatterns = [
    *both("projects/<int:project_id>/samples", sample_views.ProjectSamples, "api-project-samples"),
    *both("samples/<int:sample_id>", sample_views.SampleDetail, "api-sample-detail"),
    *both("samples/<int:sample_id>/members", sample_views.SampleMembers, "api-sample-members"),
]
