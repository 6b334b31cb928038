"""The embedding store's CLIP encoder (issue 23): one unit vector per item, text and/or image.

An embedding set whose encoder names a CLIP checkpoint directory (its config.json says
`model_type: "clip"`, as `build_tiny_clip` or an `openai/clip-vit-base-patch32` save does)
is encoded here instead of by the sentence encoder:

- text only: CLIP's text embedding (`get_text_features`, at most 77 tokens as in seed 002),
- image only: CLIP's image embedding (`get_image_features`),
- text and image: the normalized mean of the two unit vectors.

Why the mean: CLIP trains both towers into one space, so the two unit vectors of a post are
comparable, and their normalized mean is the point on the sphere between them. A text-only,
an image-only and a text+image item all land in that one space, so "more like this", mining
and margin_diverse compare any two examples; an item with both stays close to items sharing
either its image or its text. Seed 002 (../shared/seeds/002_58145e44d9d40203.txt) fuses the
two CLIP embeddings with a learned gate over the same modality-presence flags; the store has
no trained head to learn a gate with, so it takes the untrained, symmetric choice (equal
weights). An item with neither (no text, no image) gets the embedding of the empty text.

torch and transformers are imported when a CLIP set is first encoded, never at import.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models_zoo.model_roots import REGISTERED, ModelRefused, resolve_encoder

MAX_TEXT_TOKENS = 77  # seed 002 / CLIP's context length
BATCH_SIZE = 32

_models: dict[str, Any] = {}
_lock = threading.Lock()


def clip_directory(encoder: str) -> str | None:
    """The checkpoint directory of `encoder` when it is a CLIP one (config.json's model_type
    "clip"); None for registered names, other models and names that are refused."""
    if not isinstance(encoder, str) or encoder in REGISTERED:
        return None
    try:
        path = Path(resolve_encoder(encoder))
    except ModelRefused:
        return None
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        return None
    return str(path) if isinstance(config, dict) and config.get("model_type") == "clip" else None


def _load(path: str) -> tuple[Any, Any, Any]:
    from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

    from models_zoo.backends._encoders import offline_env

    with _lock:
        loaded = _models.get(path)
        if loaded is None:
            offline_env()
            model = AutoModel.from_pretrained(path)
            model.eval()
            loaded = (model, AutoTokenizer.from_pretrained(path), AutoImageProcessor.from_pretrained(path))
            _models[path] = loaded
    return loaded


def clear_cache() -> None:
    """Forget loaded CLIP models (tests that rebuild a checkpoint in the same directory)."""
    with _lock:
        _models.clear()


def _array(output: Any) -> np.ndarray:
    # transformers 4.x returns a tensor; 5.x a model output whose pooler_output is projected.
    tensor = output if hasattr(output, "float") else output.pooler_output
    return tensor.float().cpu().numpy()


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


def encode_clip_items(path: str, texts: Sequence[str], images: Sequence[bytes | None]) -> np.ndarray:
    """Unit-length float32 rows, one per item (see the module docstring for the rule)."""
    import torch

    from models_zoo.backends.clip_fusion import decode_image

    model, tokenizer, processor = _load(path)
    n = len(texts)
    has_image = [images[i] is not None and len(images[i]) > 0 for i in range(n)]
    has_text = [bool(texts[i] and texts[i].strip()) or not has_image[i] for i in range(n)]
    dim = int(model.config.projection_dim)
    text_vecs = np.zeros((n, dim), dtype=np.float32)
    image_vecs = np.zeros((n, dim), dtype=np.float32)
    text_rows = [i for i in range(n) if has_text[i]]
    image_rows = [i for i in range(n) if has_image[i]]
    with torch.inference_mode():
        for start in range(0, len(text_rows), BATCH_SIZE):
            rows = text_rows[start:start + BATCH_SIZE]
            batch = tokenizer([texts[i] or "" for i in rows], padding=True, truncation=True,
                              max_length=MAX_TEXT_TOKENS, return_tensors="pt")
            features = model.get_text_features(input_ids=batch["input_ids"],
                                               attention_mask=batch["attention_mask"])
            text_vecs[rows] = _array(features)
        for start in range(0, len(image_rows), BATCH_SIZE):
            rows = image_rows[start:start + BATCH_SIZE]
            pictures = [decode_image(images[i], f"item {i}") for i in rows]
            pixels = processor(images=pictures, return_tensors="pt")["pixel_values"]
            image_vecs[rows] = _array(model.get_image_features(pixel_values=pixels))
    text_vecs, image_vecs = _unit(text_vecs), _unit(image_vecs)
    both = np.asarray(has_text) & np.asarray(has_image)
    out = np.where(np.asarray(has_image)[:, None], image_vecs, text_vecs)
    out[both] = (text_vecs[both] + image_vecs[both]) / 2
    return _unit(out).astype(np.float32)
