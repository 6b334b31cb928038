"""Models of downstream-system access: API keys, webhooks and their deliveries, scoring jobs."""
from __future__ import annotations

from integrations.models.api_keys import ApiKey, Scope
from integrations.models.scoring import ScoringChunk, ScoringJob, ScoringState
from integrations.models.webhooks import Delivery, DeliveryStatus, Webhook

__all__ = [
    "ApiKey", "Delivery", "DeliveryStatus", "Scope", "ScoringChunk", "ScoringJob",
    "ScoringState", "Webhook",
]
