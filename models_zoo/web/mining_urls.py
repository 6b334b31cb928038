"""Mining pages (project admins), mounted under "/" by models_zoo.web.loop_urls."""
from __future__ import annotations

from django.urls import path

from models_zoo.web import mining_views as v

P = "projects/<int:project_id>/"

urlpatterns = [
    path(P + "mining/", v.mining_page, name="mining"),
    path(P + "mining/<int:run_id>/", v.mining_run_page, name="mining-run"),
    path(P + "mining/<int:run_id>/serve/", v.mining_serve, name="mining-serve"),
    path(P + "mining/experiments/", v.experiment_start, name="mining-experiment-start"),
    path(P + "mining/experiments/<int:experiment_id>/", v.experiment_page, name="mining-experiment"),
]
