"""Celery task: predict every example of a project with one model version (thin wrapper)."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="vigia.predict_project", acks_late=True, reject_on_worker_lost=True)
def predict_project_task(project_id: int, model_version_id: int) -> int:
    """Store Prediction rows for the project's examples that the version has not predicted yet.

    Safe to redeliver (acks_late): the service skips examples already predicted and upserts on
    (example, model_version), so a second run only finishes what the first left.
    """
    from models_zoo.services.prediction import predict_project

    written = predict_project(
        project_id,
        model_version_id,
        progress=lambda n: logger.info(
            "predict_project %s v%s: %s predictions written", project_id, model_version_id, n
        ),
    )
    logger.info(
        "predict_project %s v%s done: %s predictions written", project_id, model_version_id, written
    )
    # The promotion's predictions are what the active-learning queue orders by (issue 9).
    from models_zoo.services.queue_scores import rescore_if_current

    rescore_if_current(project_id, model_version_id)
    return written


@shared_task(name="vigia.predict_chunk", acks_late=True, reject_on_worker_lost=True)
def predict_chunk_task(chunk_id: int) -> int:
    """Predict one chunk of a PredictionJob (models_zoo.services.chunked_prediction).

    Safe to redeliver: a chunk's predictions and its `done` mark commit together, and a done
    chunk returns at once, so no chunk is predicted twice."""
    from models_zoo.services.chunked_prediction import predict_chunk

    return predict_chunk(chunk_id)
