"""Pages of the loop on a project's data (the prevalence index, the scored queue's settings,
simulations, mining), mounted at "/" by config/urls.py next to annotator.web.urls."""
from __future__ import annotations

from django.urls import include, path

from models_zoo.web import index_views, queue_views, simulation_views

urlpatterns = [
    path("projects/<int:project_id>/index/", index_views.index_page, name="prevalence-index"),
    path("projects/<int:project_id>/queue/", queue_views.queue_settings, name="queue-settings"),
    path("projects/<int:project_id>/simulations/", simulation_views.simulations_page,
         name="simulations"),
    path("projects/<int:project_id>/simulations/<int:simulation_id>/",
         simulation_views.simulation_page, name="simulation"),
    path("", include("models_zoo.web.mining_urls")),
    path("", include("models_zoo.web.browse_urls")),
]
