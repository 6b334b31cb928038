"""Celery task of the embedding store: embed one chunk (thin wrapper over the service)."""
from __future__ import annotations

from celery import shared_task


# acks_late: a chunk whose worker died is redelivered; the service skips a chunk that is ready,
# and rewriting a shard gives the same files, so running a chunk twice is harmless.
@shared_task(name="vigia.embed_chunk", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def embed_chunk_task(chunk_id: int) -> int:
    """Embed EmbeddingChunk `chunk_id` and write its shard; returns the vectors written."""
    from annotator.services.embeddings import embed_chunk

    return embed_chunk(int(chunk_id))
