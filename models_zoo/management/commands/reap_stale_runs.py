"""`manage.py reap_stale_runs`: mark runs whose worker died (stale heartbeat) failed."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from models_zoo.services.training import reap_stale_runs


class Command(BaseCommand):
    help = (
        "Mark running training runs whose heartbeat is older than VIGIA_RUN_STALE_SECONDS "
        "failed (\"worker lost\"); the current model keeps serving."
    )

    def handle(self, *args: Any, **opts: Any) -> None:
        reaped = reap_stale_runs()
        self.stdout.write(
            f"{reaped} stale run(s) marked failed (stale after {settings.VIGIA_RUN_STALE_SECONDS} s)"
        )
