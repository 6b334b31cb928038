"""What models_zoo provides to the apps below it through config.hooks (issue 22): annotator never
imports models_zoo, so where a dataset service needs the models or the loop (the backend list, a
queue rescore, the annotate page's suggestion), it calls the hook named here. Installed by
ModelsZooConfig.ready()."""
from __future__ import annotations

from typing import Any

from annotator.models import Project
from config import hooks
from models_zoo.backends._encoders import DEFAULT_BATCH_SIZE, encode_sentences
from models_zoo.backends.clip_embed import clip_directory, encode_clip_items
from models_zoo.model_roots import ModelRefused, check_model_name
from models_zoo.models import ModelVersion
from models_zoo.registry import available
from models_zoo.services import (
    browse,
    catalog,
    chunked_prediction,
    cold_start,
    queue_scores,
    queues,
    suggestions,
)
from models_zoo.services.training_defaults import check_training_defaults


def model_version_count(project: Project) -> int:
    return ModelVersion.objects.filter(project=project).count()


def refused_model_name(name: str) -> str | None:
    """Why `name` may not be used as a model (None: it may)."""
    try:
        check_model_name(name)
    except ModelRefused as exc:
        return str(exc)
    return None


def encode_texts(encoder: str, texts: Any) -> Any:
    """The embedding store's encoding call: embedding_head's code path, unit-length rows
    (a CLIP checkpoint: its text embeddings, in the space of the set's image vectors)."""
    clip = clip_directory(encoder)
    if clip is not None:
        return encode_clip_items(clip, list(texts), [None] * len(texts))
    return encode_sentences(encoder, texts, batch_size=DEFAULT_BATCH_SIZE, normalize=True)


def encodes_images(encoder: str) -> bool:
    """Whether the store should read the examples' images for `encoder` (a CLIP checkpoint)."""
    return clip_directory(encoder) is not None


def encode_items(encoder: str, texts: Any, images: Any) -> Any:
    """Items (text and/or image) as unit-length rows: CLIP's rule (backends/clip_embed.py) for a
    CLIP checkpoint; any other encoder embeds the texts alone, as `encode_texts` does."""
    clip = clip_directory(encoder)
    if clip is not None:
        return encode_clip_items(clip, list(texts), list(images))
    return encode_texts(encoder, texts)


PROVIDERS: dict[str, Any] = {
    "backend_names": available,
    "backends_for": catalog.backends_for,
    "backend_catalog": catalog.backend_catalog,
    "check_training_defaults": check_training_defaults,
    "check_cold_start": cold_start.check_cold_start,
    "predict_with_transfer": chunked_prediction.predict_with_transfer,
    "request_rescore": queue_scores.request_rescore,
    "why_picked": queue_scores.why_picked,
    "model_suggestion": suggestions.current_suggestion,
    "transfer_in_force": suggestions.transfer_in_force,
    "suggestion_pairs": suggestions.suggestion_pairs,
    "example_predictions": browse.example_predictions,
    "training_queue": queues.queue_for,
    "model_version_count": model_version_count,
    "refused_model_name": refused_model_name,
    "encode_texts": encode_texts,
    "encodes_images": encodes_images,
    "encode_items": encode_items,
}


def install() -> None:
    for name, fn in PROVIDERS.items():
        hooks.provide(name, fn)
