from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Downstream systems as users: project API keys, signed webhooks, batch scoring."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from config.events import event_emitted
        from integrations.api_keys.service import delete_principal
        from integrations.models import ApiKey
        from integrations.webhooks.dispatch import on_event

        event_emitted.connect(on_event, dispatch_uid="integrations.webhooks")
        # A key deleted with its project takes its service user along.
        post_delete.connect(delete_principal, sender=ApiKey, dispatch_uid="integrations.key_principal")
