"""Celery tasks of batch scoring: one chunk each (integrations.scoring.service)."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

logger = logging.getLogger(__name__)


@shared_task(name="vigia.score_chunk", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def score_chunk_task(chunk_id: int) -> int:
    """Score one chunk of a ScoringJob. Safe to redeliver: a done chunk returns at once, and a
    chunk's results file is renamed into place before its done mark commits."""
    from integrations.scoring.service import score_chunk

    return score_chunk(int(chunk_id))


@worker_ready.connect
def expire_scoring_results_on_start(**kwargs: object) -> None:
    from integrations.scoring.service import expire_scoring_results

    try:
        expired = expire_scoring_results()
    except Exception:  # a DB hiccup must not stop the worker from starting
        logger.exception("expiring scoring results on worker start failed")
        return
    if expired:
        logger.info("removed the results of %d expired scoring jobs", expired)
