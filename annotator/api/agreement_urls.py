"""REST routes for agreement, adjudication and undo (mounted under /api/v1/)."""
from __future__ import annotations

from annotator.api import agreement_views as v
from annotator.api.project_urls import P, both

urlpatterns = [
    *both(P + "agreement", v.ProjectAgreement, "api-project-agreement"),
    *both(P + "examples/<int:example_id>/adjudicate", v.ExampleAdjudicate, "api-example-adjudicate"),
    *both(P + "undo", v.ProjectUndo, "api-project-undo"),
]
