"""The embedding store's bookkeeping: one EmbeddingSet per (project, encoder), split into chunks.

The vectors themselves live on disk (see annotator/services/embedding_shards.py): each chunk is a
pair of `.npy` files (example ids, vectors) under the artifacts directory. These rows only say
which examples a chunk covers and how far the job is.
"""
from __future__ import annotations

from django.db import models

from annotator.models import Project


class EmbeddingState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class EmbeddingSet(models.Model):
    """Cached sentence embeddings of a project's examples for one encoder."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="embedding_sets")
    # "default" is the packaged all-MiniLM-L6-v2 (the same name embedding_head's config uses).
    encoder = models.CharField(max_length=500, default="default")
    state = models.CharField(
        max_length=8, choices=EmbeddingState.choices, default=EmbeddingState.QUEUED
    )
    # Share of the set's chunks that are ready (0..1).
    progress = models.FloatField(default=0.0)
    # Vectors stored (ready chunks), and their dimension once the first chunk is done.
    count = models.PositiveIntegerField(default=0)
    dim = models.PositiveIntegerField(null=True, blank=True)
    dtype = models.CharField(max_length=8, default="float32")
    error = models.TextField(blank=True)
    # When every chunk was last ready: a set updating after an import stays usable.
    ready_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "encoder"], name="embedding_set_unique"),
        ]

    def __str__(self) -> str:
        return f"embeddings of {self.project_id} ({self.encoder}, {self.state})"


class EmbeddingChunk(models.Model):
    """Examples embedded by one Celery task; its shard files are named after its id."""

    embedding_set = models.ForeignKey(EmbeddingSet, on_delete=models.CASCADE, related_name="chunks")
    # The example ids this chunk was asked to embed (ascending); deleted ones are skipped.
    example_ids = models.JSONField(default=list)
    state = models.CharField(
        max_length=8, choices=EmbeddingState.choices, default=EmbeddingState.QUEUED
    )
    # Vectors actually written (examples deleted before the chunk ran are not embedded).
    count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["embedding_set", "state"], name="embedding_chunk_state")]


__all__ = ["EmbeddingChunk", "EmbeddingSet", "EmbeddingState"]
