"""Import, export and import-job routes (mounted under /api/v1/)."""
from __future__ import annotations

from django.urls import path

from annotator.api.export_views import ExportView
from annotator.api.io_views import ImportJobView, ImportView

urlpatterns = [
    path("projects/<int:project_id>/import", ImportView.as_view(), name="api-project-import"),
    path("projects/<int:project_id>/export", ExportView.as_view(), name="api-project-export"),
    path("imports/<int:job_id>", ImportJobView.as_view(), name="api-import-job-detail"),
]
