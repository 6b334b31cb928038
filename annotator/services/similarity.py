"""Similarity search over the embedding store: "more like this" and free-text search.

Both rank the project's stored vectors by cosine similarity (rows are unit length, so a dot
product) with a brute-force numpy pass: exact, and fast enough for the pool sizes we hold
(a matrix-vector product over 500k x 384 float32 takes tens of milliseconds).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from annotator.models import Example, Project
from annotator.services import embedding_shards as shards
from annotator.services.embeddings import (
    DEFAULT_ENCODER,
    check_encoder,
    encode_rows_for,
    encode_texts,
    load_vectors,
    ready_embedding_set,
)
from annotator.services.projects import ProjectRuleError
from config.inputs import InvalidInput, parse_int

MAX_K = 100
MAX_QUERY_CHARS = 2000


def parse_k(raw: Any, default: int = 10) -> int:
    """`k` from a query string or JSON body: an integer 1..MAX_K (400 naming `k` otherwise)."""
    try:
        return parse_int(raw, "k", default=default, lo=1, hi=MAX_K)
    except InvalidInput as exc:
        raise ProjectRuleError(exc.message, field="k") from None


def parse_query_text(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ProjectRuleError("a non-empty string is required", field="text")
    if len(raw) > MAX_QUERY_CHARS:
        raise ProjectRuleError(f"at most {MAX_QUERY_CHARS} characters, got {len(raw)}", field="text")
    return raw


def _ready_set(project: Project, encoder: str | None):
    encoder = check_encoder(encoder)
    embedding_set = ready_embedding_set(project, encoder)
    if embedding_set is None:
        raise ProjectRuleError(
            f"no ready embeddings for encoder {encoder!r}: compute them first "
            f"(POST /api/v1/projects/{project.pk}/embeddings)",
            field="embeddings", conflict=True,
        )
    return embedding_set


def rank(ids: np.ndarray, vectors: np.ndarray, query: np.ndarray, k: int,
         skip_id: int | None = None) -> list[tuple[int, float]]:
    """The `k` (id, cosine) pairs most similar to `query`, best first, without `skip_id`."""
    exclude = (ids == skip_id) if skip_id is not None else None
    pos, scores = shards.top_k(vectors, query, k, exclude=exclude)
    return [(int(ids[p]), float(s)) for p, s in zip(pos, scores, strict=True)]


def _items(pairs: list[tuple[int, float]]) -> list[dict[str, Any]]:
    texts = dict(Example.objects.filter(pk__in=[i for i, _ in pairs]).values_list("pk", "text"))
    return [{"example": i, "text": texts[i], "score": round(s, 6)} for i, s in pairs if i in texts]


def similar_examples(project: Project, example: Example, k: int = 10,
                     encoder: str | None = None) -> list[dict[str, Any]]:
    """Examples most similar to `example` (itself excluded): items {example, text, score}.
    An example imported after the set was computed is encoded on the fly."""
    embedding_set = _ready_set(project, encoder)
    ids, vectors = load_vectors(embedding_set)
    pos = int(np.searchsorted(ids, example.pk))
    if pos < len(ids) and ids[pos] == example.pk:
        query = vectors[pos]
    else:
        row = (example.pk, example.normalized_text, example.text, example.image.name or "")
        query = encode_rows_for(embedding_set.encoder, [row])[0]
    return _items(rank(ids, vectors, query, k, skip_id=example.pk))


def semantic_search(project: Project, text: str, k: int = 10,
                    encoder: str | None = None) -> list[dict[str, Any]]:
    """Examples most similar to a free text (normalised like the examples): {example, text, score}."""
    embedding_set = _ready_set(project, encoder)
    ids, vectors = load_vectors(embedding_set)
    query = encode_texts(project, [text], embedding_set.encoder)[0]
    return _items(rank(ids, vectors, query, k))


__all__ = ["DEFAULT_ENCODER", "MAX_K", "parse_k", "parse_query_text", "rank", "semantic_search",
           "similar_examples"]
