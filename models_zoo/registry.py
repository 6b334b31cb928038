"""Backend registry: built-ins as lazy dotted paths, third parties through entry points.

Like healthchecks' TRANSPORTS and transformers' pipeline registry: names map to dotted paths
resolved on first use (so importing this module never imports torch), and an unknown name gets
an error that lists the valid ones. Class paths are never read from artifact files.
"""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models_zoo.backends.base import Backend

ENTRY_POINT_GROUP = "models_zoo.backends"

BUILTIN_BACKENDS: dict[str, str] = {
    "embedding_head": "models_zoo.backends.embedding_head:EmbeddingHeadBackend",
    "transformer_classifier": "models_zoo.backends.transformer_classifier:TransformerClassifierBackend",
    "span_tagger": "models_zoo.backends.span_tagger:SpanTaggerBackend",
    "attention_bilstm": "models_zoo.backends.attention_bilstm:AttentionBiLSTMBackend",
    "clip_fusion": "models_zoo.backends.clip_fusion:ClipFusionBackend",
}


class UnknownBackend(LookupError):
    pass


def _third_party() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available() -> list[str]:
    """Names of every backend that can be used: built-ins and installed plugins."""
    return sorted(set(BUILTIN_BACKENDS) | set(_third_party()))


def get_backend(name: str) -> type[Backend]:
    """The backend class registered under `name`."""
    if name in BUILTIN_BACKENDS:
        module_path, _, attr = BUILTIN_BACKENDS[name].partition(":")
        return getattr(importlib.import_module(module_path), attr)
    plugins = _third_party()
    if name in plugins:
        return plugins[name].load()  # type: ignore[attr-defined,no-any-return]
    raise UnknownBackend(
        f"unknown backend {name!r}; valid backends: {', '.join(available())}"
    )
