"""Training on the embedding store: `embedding_head` reuses the vectors the project's store
already holds for its encoder, so a retrain on a warm store does not re-encode."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from models_zoo.backends.base import Backend, FitReport, ProgressCallback


def fit_with_store(backend: Backend, project: Any, dataset: Any, progress: ProgressCallback,
                   log: Callable[[str], None]) -> FitReport:
    """Fit `backend` on `dataset`; embedding_head takes stored vectors and encodes only the
    examples the store lacks (the same encoder function and text, see the store's service)."""
    from models_zoo.backends.embedding_head import EmbeddingHeadBackend

    if not isinstance(backend, EmbeddingHeadBackend) or not backend.config.normalize_embeddings:
        return backend.fit(dataset.train, dataset.validation, progress=progress)
    from annotator.services.embeddings import cached_or_encoded

    items = [*dataset.train, *dataset.validation]
    ids = [*dataset.snapshot["train_example_ids"], *dataset.snapshot["validation_example_ids"]]
    vectors, cached = cached_or_encoded(project, backend.config.encoder, ids,
                                        [item.text for item in items],
                                        lambda texts: backend.encode(texts, progress))
    log(f"embeddings: {cached} of {len(ids)} from the embedding store, {len(ids) - cached} encoded")
    n = len(dataset.train)
    return backend.fit_embeddings(vectors[:n], dataset.train, vectors[n:], dataset.validation,
                                  progress=progress, encoded=cached < len(ids))
