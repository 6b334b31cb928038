"""Browser pages of integrations (mounted at "/")."""
from __future__ import annotations

from django.urls import path

from integrations.web import key_views, scoring_views, webhook_views

urlpatterns = [
    path("projects/<int:project_id>/api-keys/", key_views.api_keys_page, name="api-keys"),
    path("projects/<int:project_id>/api-keys/<int:key_id>/revoke/", key_views.revoke_key,
         name="api-key-revoke"),
    path("projects/<int:project_id>/webhooks/", webhook_views.webhooks_page, name="webhooks"),
    path("projects/<int:project_id>/webhooks/<int:webhook_id>/<str:action>/", webhook_views.webhook_action,
         name="webhook-action"),
    path("projects/<int:project_id>/scoring/", scoring_views.scoring_page, name="scoring"),
    path("projects/<int:project_id>/scoring/jobs/", scoring_views.scoring_jobs_partial, name="scoring-jobs"),
    path("projects/<int:project_id>/scoring/<int:job_id>/results/", scoring_views.scoring_results,
         name="scoring-results"),
    path("projects/<int:project_id>/scoring/<int:job_id>/<str:action>/", scoring_views.scoring_action,
         name="scoring-action"),
]
