"""Calls from a lower app up into a higher one, without an import (issue 22).

The layers import downward only (pyproject.toml, [tool.importlinter]): `annotator` (the
datasets) never imports `models_zoo` (the models and the loop on the data). Where a dataset
service must still ask the loop for something (a settings change asks for a queue rescore, the
annotate page wants the model's suggestion, the project form lists the backends), it calls a
named hook here, and the upper app provides it in its AppConfig.ready().

Each name has one provider; calling a name nobody provides raises `HookMissing` unless the
caller gives a `default` (the lower app then behaves as if the feature were absent). Events
that many receivers may want go through config.events instead.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The names and their signatures; models_zoo.hooks provides every one of them.
HOOKS = {
    # annotator.services.projects / project_settings, annotator.web.project_forms
    "backend_names": "() -> list[str]: the registered training backends",
    "backends_for": "(task_type) -> list[dict]: the backends that train a task type",
    "backend_catalog": "() -> list[dict]: every backend with the task types it trains",
    "check_training_defaults": "(fields, labels=None) -> None: threshold objective, targets, "
                               "validation split; raises ProjectRuleError",
    "check_cold_start": "(fields, project, actor) -> fields: the transfer model (issue 18)",
    "predict_with_transfer": "(project) -> None: predictions of a new transfer model",
    "request_rescore": "(project, on_refused=None) -> None: rescore the project's queue",
    # annotator.web.annotate_context, annotator.services.agreement, annotator.web.embedding_views
    "why_picked": "(project, example) -> dict: why the queue handed out `example`",
    "model_suggestion": "(example) -> Prediction | None: the suggestion the page pre-fills",
    "transfer_in_force": "(project) -> ModelVersion | None: the transfer model in force",
    "suggestion_pairs": "(project, rows) -> {username: [(saved, suggested)]}",
    "example_predictions": "(example) -> list[dict]: every version's prediction of it",
    # annotator.services.workers, annotator.web.project_setup_views
    "training_queue": "(backend) -> str: the Celery queue a backend's runs go to",
    "model_version_count": "(project) -> int: the project's model versions",
    # annotator.services.embeddings (the embedding store encodes with models_zoo's encoders)
    "refused_model_name": "(name) -> str | None: why `name` is no usable model (None: it is)",
    "encode_texts": "(encoder, texts) -> ndarray: unit-length sentence embeddings",
    "encodes_images": "(encoder) -> bool: the encoder embeds images too (a CLIP checkpoint)",
    "encode_items": "(encoder, texts, images) -> ndarray: unit-length embeddings of items "
                    "(images[i]: the item's image bytes or None)",
}

_provided: dict[str, Callable[..., Any]] = {}

_MISSING = object()


class HookMissing(LookupError):
    """Nobody provides this hook (the upper app is not installed or not ready)."""


def provide(name: str, fn: Callable[..., Any]) -> None:
    """Register `fn` as the one provider of `name` (a later call replaces it: reloads, tests)."""
    if name not in HOOKS:
        raise ValueError(f"unknown hook {name!r}; known: {', '.join(sorted(HOOKS))}")
    _provided[name] = fn


def provided(name: str) -> bool:
    return name in _provided


def call(name: str, *args: Any, default: Any = _MISSING, **kwargs: Any) -> Any:
    """Call the provider of `name`; without one, return `default` or raise `HookMissing`."""
    fn = _provided.get(name)
    if fn is None:
        if name not in HOOKS:
            raise ValueError(f"unknown hook {name!r}")
        if default is not _MISSING:
            return default
        raise HookMissing(f"no provider for hook {name!r} (is models_zoo installed?)")
    return fn(*args, **kwargs)
