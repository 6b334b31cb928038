"""REST routes of models_zoo, one module per area (mounted under /api/v1/)."""
from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("models_zoo.api.training_urls")),
    path("", include("models_zoo.api.predict_urls")),
    path("", include("models_zoo.api.index_urls")),
    path("", include("models_zoo.api.job_urls")),
    # The loop on annotator's data: mining, the scored queue, simulations (issue 22 moved them up).
    path("", include("models_zoo.api.mining_urls")),
    path("", include("models_zoo.api.queue_urls")),
    path("", include("models_zoo.api.browse_urls")),
]
