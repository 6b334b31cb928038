"""Celery task of the embedding map (thin wrapper over models_zoo.services.embedding_map)."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="vigia.embedding_map", ignore_result=True)
def embedding_map_task(project_id: int) -> int:
    from models_zoo.services.embedding_map import compute_map

    return compute_map(int(project_id))
