"""Prediction API routes (mounted under /api/v1/)."""

from __future__ import annotations

from django.urls import path

from models_zoo.api.predict_views import PredictAllView, PredictionStatusView, PredictView

urlpatterns = [
    path("projects/<int:project_id>/predict", PredictView.as_view(), name="api-project-predict"),
    path(
        "projects/<int:project_id>/predict-all",
        PredictAllView.as_view(),
        name="api-project-predict-all",
    ),
    path(
        "projects/<int:project_id>/predictions/status",
        PredictionStatusView.as_view(),
        name="api-project-predictions-status",
    ),
]
