"""REST routes of difficult-negative mining (each with and without its trailing slash)."""
from __future__ import annotations

from django.urls import path

from annotator.api import mining_views as v

P = "projects/<int:project_id>/"


def both(route: str, view, name: str) -> list:
    """`route` (documented) and its slash twin (accepted, left out of the OpenAPI schema)."""
    twin = route[:-1] if route.endswith("/") else route + "/"
    return [path(route, view, name=name),
            path(twin, view.cls.as_view(schema=None), name=f"{name}-twin")]


urlpatterns = [
    *both(P + "mining", v.project_mining, "api-project-mining"),
    *both("mining/<int:mining_run_id>", v.mining_detail, "api-mining-detail"),
    *both("mining/<int:mining_run_id>/proposals", v.mining_proposals, "api-mining-proposals"),
    *both("mining/<int:mining_run_id>/serve", v.mining_serve, "api-mining-serve"),
    *both(P + "negatives-experiments", v.project_experiments, "api-negatives-experiments"),
    *both("negatives-experiments/<int:experiment_id>", v.experiment_detail, "api-negatives-experiment"),
]
