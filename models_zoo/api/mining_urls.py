"""REST routes of difficult-negative mining (each with and without its trailing slash)."""
from __future__ import annotations

from annotator.api.routes import both
from models_zoo.api import mining_views as v

P = "projects/<int:project_id>/"


urlpatterns = [
    *both(P + "mining", v.project_mining, "api-project-mining"),
    *both("mining/<int:mining_run_id>", v.mining_detail, "api-mining-detail"),
    *both("mining/<int:mining_run_id>/proposals", v.mining_proposals, "api-mining-proposals"),
    *both("mining/<int:mining_run_id>/serve", v.mining_serve, "api-mining-serve"),
    *both(P + "negatives-experiments", v.project_experiments, "api-negatives-experiments"),
    *both("negatives-experiments/<int:experiment_id>", v.experiment_detail, "api-negatives-experiment"),
]
