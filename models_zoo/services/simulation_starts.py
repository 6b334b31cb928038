"""A simulation's `start` (issue 18): parse the request's value, then build each start's arrays
over the simulated rows (models_zoo.active_learning.starts picks the n0 from them).

Values: `"random"`; `{"query": text or [texts]}` (the description(s) are embedded like the
project's examples, with the embedding set's encoder); `{"model_version": id}` (another
project's version the admin can read, same label names: its probability of the label on every
simulated example); `{"keywords": [...]}`; or a list of up to MAX_STARTS of these, simulated on
the same seeds and test splits so their curves compare.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from annotator.models import Example, Project
from annotator.services.embeddings import encode_texts
from annotator.services.projects import ProjectRuleError
from config.text_safety import find_unsafe
from models_zoo.active_learning.simulation import Start
from models_zoo.active_learning.starts import keyword_matches, query_closeness
from models_zoo.models import ModelVersion
from models_zoo.services.cold_start import parse_descriptions, readable_foreign_version
from models_zoo.services.embedding_reuse import predict_in_batches
from models_zoo.services.items import item_for_example
from models_zoo.serving import get_model_cache, version_ref

MAX_STARTS = 4
MAX_KEYWORDS = 50


def _one(raw: Any, project: Project, user: Any) -> Any:
    if raw == "random":
        return "random"
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ValueError('"random", {"query": text or [texts]}, {"model_version": id} or '
                         '{"keywords": [...]}')
    kind, value = next(iter(raw.items()))
    try:
        if kind == "query":
            return {"query": parse_descriptions(value, "start")}
        if kind == "model_version":
            return {"model_version": readable_foreign_version(user, project, value, "start").pk}
    except ProjectRuleError as exc:
        raise ValueError(exc.message) from None
    if kind == "keywords":
        words = [value] if isinstance(value, str) else value
        if (not isinstance(words, list) or not words or len(words) > MAX_KEYWORDS
                or not all(isinstance(w, str) and w.strip() and len(w) <= 200 for w in words)):
            raise ValueError(f"keywords: a list of 1 to {MAX_KEYWORDS} non-empty strings of at "
                             "most 200 characters")
        unsafe = find_unsafe(words)
        if unsafe is not None:  # the page posts here without the REST parsers' guard
            raise ValueError(f"keywords: keyword {int(unsafe[0]) + 1} {unsafe[1]}")
        return {"keywords": [w.strip() for w in words]}
    raise ValueError(f"unknown start {kind!r}; valid: random, query, model_version, keywords")


def parse_starts(raw: Any, project: Project, user: Any) -> Any:
    """The normalised start (or list of starts); ValueError says what is wrong."""
    if isinstance(raw, list):
        if not raw or len(raw) > MAX_STARTS:
            raise ValueError(f"a list of 1 to {MAX_STARTS} starts")
        out = [_one(item, project, user) for item in raw]
        return out
    return _one(raw, project, user)


def _model_scores(project: Project, version_id: int, ids: np.ndarray, label: str) -> np.ndarray:
    """The other project's version's probability of the label on each simulated example (read
    through the model cache; embedding_head takes this project's stored vectors when its
    encoder matches)."""
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise ValueError(f"start: model version {version_id} no longer exists")
    backend = get_model_cache().get(version_ref(version_id)).backend
    examples = Example.objects.in_bulk(ids.tolist())
    ordered = [examples[int(i)] for i in ids]
    predictions = predict_in_batches(backend, project, [e.pk for e in ordered],
                                     [item_for_example(e, project) for e in ordered])
    return np.array([p.scores.get(label, 0.0) for p in predictions], dtype=np.float64)


def build_starts(specs: list[Any], project: Project, data: dict[str, Any],
                 label_index: int | None) -> list[Start]:
    """The Start of each spec over the simulated rows (`data` from the simulation service)."""
    out = []
    for spec in specs:
        if spec == "random":
            out.append(Start("random", "random"))
            continue
        kind, value = next(iter(spec.items()))
        if kind == "query":
            queries = encode_texts(project, list(value), data["encoder"])
            out.append(Start("query", spec, closeness=query_closeness(data["x"], queries)))
        elif kind == "model_version":
            if label_index is None:
                raise ValueError("a model_version start needs the label")
            out.append(Start("model_version", spec,
                             scores=_model_scores(project, int(value), data["ids"],
                                                 data["labels"][label_index])))
        else:
            out.append(Start("keywords", spec, matches=keyword_matches(data["texts"], value)))
    return out
