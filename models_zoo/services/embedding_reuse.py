"""Training and predicting on the embedding store: `embedding_head` reuses the vectors the
project's store already holds for its encoder, so a retrain on a warm store does not re-encode,
nor does the stop-set prediction that follows it, nor a whole-project prediction job."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from annotator.services.embeddings import cached_or_encoded
from models_zoo.backends.base import Backend, FitReport, Item, ItemPrediction, ProgressCallback
from models_zoo.backends.clip_embed import clip_directory
from models_zoo.backends.embedding_head import EmbeddingHeadBackend


def uses_store(backend: Backend) -> bool:
    """Whether `backend` can take the store's vectors: embedding_head with unit-length
    embeddings (the store keeps L2-normalised vectors), on a text encoder: a CLIP checkpoint's
    set mixes image vectors in (backends/clip_embed.py), which embedding_head's encoder never
    gives, so its vectors cannot stand in for fresh ones."""
    return (isinstance(backend, EmbeddingHeadBackend) and backend.config.normalize_embeddings
            and clip_directory(backend.config.encoder) is None)


def fit_with_store(backend: Backend, project: Any, dataset: Any, progress: ProgressCallback,
                   log: Callable[[str], None]) -> FitReport:
    """Fit `backend` on `dataset`; embedding_head takes stored vectors and encodes only the
    examples the store lacks (the same encoder function and text, see the store's service)."""
    if not uses_store(backend):
        return backend.fit(dataset.train, dataset.validation, progress=progress)

    items = [*dataset.train, *dataset.validation]
    ids = [*dataset.snapshot["train_example_ids"], *dataset.snapshot["validation_example_ids"]]
    vectors, cached = cached_or_encoded(project, backend.config.encoder, ids,
                                        [item.text for item in items],
                                        lambda texts: backend.encode(texts, progress))
    log(f"embeddings: {cached} of {len(ids)} from the embedding store, {len(ids) - cached} encoded")
    n = len(dataset.train)
    return backend.fit_embeddings(vectors[:n], dataset.train, vectors[n:], dataset.validation,
                                  progress=progress, encoded=cached < len(ids))


def predict_with_store(backend: Backend, project: Any, example_ids: Sequence[int],
                       items: Sequence[Item]) -> list[ItemPrediction]:
    """`backend.predict(items)`; embedding_head takes the project's stored vectors for these
    examples (encoding only those the store lacks), so predicting right after a warm retrain
    (the stop set) does not re-encode either. Rows align with `items`."""
    if not uses_store(backend):
        return backend.predict(items)

    vectors, _cached = cached_or_encoded(project, backend.config.encoder, list(example_ids),
                                         [item.text for item in items], backend.encode)
    return backend.predict_embeddings(vectors)


def predict_in_batches(backend: Backend, project: Any, example_ids: Sequence[int],
                       items: Sequence[Item], batch_size: int = 256) -> list[ItemPrediction]:
    """Predictions for `items` (the examples `example_ids`), rows aligned. embedding_head reads
    the store for all of them at once (one lookup, encoding only what it lacks); other backends
    are called `batch_size` items at a time, which their encoders batch well."""
    if uses_store(backend):
        return predict_with_store(backend, project, example_ids, items)
    out: list[ItemPrediction] = []
    for start in range(0, len(items), batch_size):
        out.extend(backend.predict(items[start : start + batch_size]))
    return out
