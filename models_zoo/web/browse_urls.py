"""Data browser pages, mounted under "/" by annotator.web.urls."""
from __future__ import annotations

from django.urls import path

from models_zoo.web import browse_views as v

urlpatterns = [
    path("projects/<int:project_id>/data/", v.browse_page, name="browse"),
    path("projects/<int:project_id>/data/bulk/", v.browse_bulk_action, name="browse-bulk"),
]
