"""Helpers for the mining tests: a project whose examples lie at chosen cosines to one
direction, stored in a ready EmbeddingSet through the store's real shard format."""
from __future__ import annotations

import math

import numpy as np
from django.utils import timezone

from annotator.models import Annotation, EmbeddingChunk, EmbeddingSet, Example
from annotator.normalize import content_hash, normalize
from annotator.services.embedding_storage import store_shard
from annotator.services.embeddings import chunk_name, storage_prefix

# Pool S_an values (cosine to the anchor (1, 0)): mu = 0.457, sigma = 0.29873 (population).
# z: -1.530 -1.195 -0.860 -0.526 -0.191 0.144 0.479 0.813 1.148 1.717
POOL = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.97]


def unit(c: float) -> list[float]:
    return [c, math.sqrt(max(0.0, 1 - c * c))]


def add_example(project, text: str, meta: dict | None = None) -> Example:
    clean = normalize(text, project.normalization)
    return Example.objects.create(project=project, text=text, normalized_text=clean,
                                  content_hash=content_hash(clean), meta=meta or {})


def store_vectors(project, examples: list[Example], vectors, encoder: str = "default") -> EmbeddingSet:
    """A ready set holding `vectors` (rows aligned with `examples`) in one shard."""
    vectors = np.asarray(vectors, dtype=np.float32)
    es = EmbeddingSet.objects.create(project=project, encoder=encoder, state="ready", progress=1.0,
                                     count=len(examples), dim=vectors.shape[1], ready_at=timezone.now())
    chunk = EmbeddingChunk.objects.create(embedding_set=es, example_ids=[e.pk for e in examples],
                                          state="ready", count=len(examples))
    chunk.shard = store_shard(storage_prefix(es), chunk_name(chunk.pk), [e.pk for e in examples], vectors)
    chunk.save(update_fields=["shard"])
    return es


def cosine_project(project, label: str = "HS") -> dict[str, object]:
    """3 imported positives of `label` at cosine 1, one imported negative at 0.85 (annotated:
    never mined), and the POOL examples (unannotated) named by their S_an."""
    positives = [add_example(project, f"positive tweet {i}") for i in range(3)]
    for e in positives:
        Annotation.objects.create(example=e, user=None, labels=[label], source="import")
    negative = add_example(project, "annotated negative")
    Annotation.objects.create(example=negative, user=None, labels=[], source="import")
    pool = {c: add_example(project, f"pool tweet at {c}") for c in POOL}
    examples = [*positives, negative, *pool.values()]
    vectors = [unit(1.0)] * 3 + [unit(0.85)] + [unit(c) for c in POOL]
    store = store_vectors(project, examples, vectors)
    return {"positives": positives, "negative": negative, "pool": pool, "store": store}
