"""REST routes of the annotator app, one module per area (mounted under /api/v1/)."""
from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("annotator.api.project_urls")),
    path("", include("annotator.api.io_urls")),
    path("", include("annotator.api.sample_urls")),
    path("", include("annotator.api.embedding_urls")),
]
urlpatterns.append(path("", include("annotator.api.agreement_urls")))
