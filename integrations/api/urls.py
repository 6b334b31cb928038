"""REST routes of integrations (mounted under /api/v1/)."""
from __future__ import annotations

from django.urls import path

from integrations.api import key_views, scoring_views, webhook_views

urlpatterns = [
    path("projects/<int:project_id>/api-keys", key_views.ProjectApiKeys.as_view(), name="api-project-api-keys"),
    path("api-keys/<int:api_key_id>", key_views.ApiKeyDetail.as_view(), name="api-api-key"),
    path("projects/<int:project_id>/webhooks", webhook_views.ProjectWebhooks.as_view(), name="api-project-webhooks"),
    path("webhooks/<int:webhook_id>", webhook_views.WebhookDetail.as_view(), name="api-webhook"),
    path("webhooks/<int:webhook_id>/enable", webhook_views.WebhookEnable.as_view(), name="api-webhook-enable"),
    path("webhooks/<int:webhook_id>/test", webhook_views.WebhookTest.as_view(), name="api-webhook-test"),
    path("webhooks/<int:webhook_id>/deliveries", webhook_views.WebhookDeliveries.as_view(),
         name="api-webhook-deliveries"),
    path("projects/<int:project_id>/scoring-jobs", scoring_views.ProjectScoringJobs.as_view(),
         name="api-scoring-jobs"),
    path("scoring-jobs/<int:scoring_job_id>", scoring_views.ScoringJobDetail.as_view(), name="api-scoring-job"),
    path("scoring-jobs/<int:scoring_job_id>/results", scoring_views.ScoringJobResults.as_view(),
         name="api-scoring-job-results"),
    path("scoring-jobs/<int:scoring_job_id>/cancel", scoring_views.ScoringJobCancel.as_view(),
         name="api-scoring-job-cancel"),
    path("scoring-jobs/<int:scoring_job_id>/resume", scoring_views.ScoringJobResume.as_view(),
         name="api-scoring-job-resume"),
]
