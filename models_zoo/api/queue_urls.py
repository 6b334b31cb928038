"""REST routes of the annotation queue (each with and without its trailing slash)."""
from __future__ import annotations

from annotator.api.routes import both
from models_zoo.api import queue_views as v

P = "projects/<int:project_id>/"

urlpatterns = [
    *both(P + "queue-strategies", v.queue_strategies, "api-queue-strategies"),
    *both(P + "queue/next", v.queue_next, "api-queue-next"),
]

from models_zoo.api import simulation_views as sv  # noqa: E402

urlpatterns += [
    *both(P + "simulations", sv.project_simulations, "api-project-simulations"),
    *both("simulations/<int:simulation_id>", sv.simulation_detail, "api-simulation-detail"),
]
