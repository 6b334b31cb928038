"""The embedding store's bookkeeping: one EmbeddingSet per (project, encoder), split into chunks.

The vectors themselves live in the shared storage (annotator/services/embedding_storage.py): each
chunk is a pair of `.npy` files (example ids, vectors). These rows say which examples a chunk
covers, how far the job is, and which stored shard (name and checksums) holds the vectors.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from annotator.models import Project
from annotator.services.embedding_storage import delete_project_objects, delete_set_objects
from annotator.services.workers import last_activity


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
    # Examples of the project deleted so far, bumped in the deleting statement by a database
    # trigger (migration 0012: one grouped UPDATE per DELETE, whatever deletes them). A merged
    # shard records the value it was filtered at: equal values mean no stored vector can be
    # stale, so readers skip the query for the live example ids.
    deletions = models.PositiveBigIntegerField(default=0)
    # The merged shard every ready chunk was folded into when the set last became ready:
    # {name, ids, vectors (sha256 of both files), chunks: [chunk ids], deletions: the counter
    # it was filtered at}; {} before the first merge.
    merged = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "encoder"], name="embedding_set_unique"),
        ]

    def __str__(self) -> str:
        return f"embeddings of {self.project_id} ({self.encoder}, {self.state})"

    def idle_since(self) -> datetime:
        """The set's last sign of work: when it was (re)requested or a chunk last finished (the
        set is saved then, and the chunk records its finish; one aggregate over the
        (set, state) index). The worker notice of a running set reads it
        (annotator.services.workers.notice_for). Chunk tasks go to the default queue."""
        return last_activity(EmbeddingChunk.objects.filter(embedding_set_id=self.pk),
                             ("finished_at",), self.created_at, self.updated_at)


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
    # The stored shard of a ready chunk: {name, ids, vectors (sha256 of both files)}; its objects
    # are deleted once merged (the set's `merged` then holds the vectors).
    shard = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["embedding_set", "state"], name="embedding_chunk_state")]


@receiver(post_delete, sender=EmbeddingSet, dispatch_uid="embedding_set_files")
def _remove_set_files(sender: Any, instance: EmbeddingSet, **kwargs: Any) -> None:
    """A deleted set takes its stored objects along, once the delete commits."""
    project_id, set_id = instance.project_id, instance.pk
    transaction.on_commit(lambda: delete_set_objects(project_id, set_id), robust=True)


@receiver(post_delete, sender=Project, dispatch_uid="embedding_project_files")
def _remove_project_files(sender: Any, instance: Project, **kwargs: Any) -> None:
    """A deleted project's whole embeddings prefix goes too (uploads of failed attempts)."""
    project_id = instance.pk
    transaction.on_commit(lambda: delete_project_objects(project_id), robust=True)


__all__ = ["EmbeddingChunk", "EmbeddingSet", "EmbeddingState"]
