"""Celery task: recompute the stored active-learning priorities of a project (thin wrapper)."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="vigia.rescore_queue", acks_late=True, reject_on_worker_lost=True)
def rescore_queue_task(project_id: int) -> int:
    """Store `Example.al_score` under the project's strategy from the current version's
    predictions. Idempotent: it rewrites every score from the stored predictions."""
    from models_zoo.services.queue_scores import rescore_project

    scored = rescore_project(project_id)
    logger.info("rescore_queue %s: %s examples scored", project_id, scored)
    return scored
