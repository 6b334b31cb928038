from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Downstream systems as users: project API keys, signed webhooks, batch scoring."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from config.events import event_emitted
        from integrations.webhooks.dispatch import on_event

        event_emitted.connect(on_event, dispatch_uid="integrations.webhooks")
