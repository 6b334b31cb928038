"""Browser routes for the agreement page and adjudication (included by annotator.web.urls)."""
from __future__ import annotations

from django.urls import path

from annotator.web import agreement_views as v

urlpatterns = [
    path("projects/<int:project_id>/agreement/", v.agreement_page, name="agreement"),
    path("projects/<int:project_id>/adjudicate/", v.adjudicate_next, name="adjudicate"),
    path(
        "projects/<int:project_id>/adjudicate/<int:example_id>/",
        v.adjudicate_example,
        name="adjudicate-example",
    ),
]
