"""Stored active-learning priorities: `Example.al_score` from the current model's predictions.

`rescore_project` reads the current version's stored Prediction rows (the promotion's
chunked prediction job writes them and its last chunk calls it), computes the priority of every
example under the project's queue strategy with the pure functions of
`models_zoo.active_learning.scoring`, and writes them in one transaction, so the claim stays one
indexed `ORDER BY al_score DESC` (models_zoo.active_learning.queue_strategies). Examples without
a prediction (imported since) keep -1 and come last. `why_picked` is what the annotate page and
`POST /queue/next` say about an example.

Cold start (issue 18, models_zoo.services.cold_start): the `query` strategy stores each
example's closeness to the project's descriptions until the project has a current model, then
the priorities of `queue_then`; without a current model, a transfer model version's stored
predictions on the project drive the model-driven strategies.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from django.db import connection, transaction

from annotator.models import Example, Project
from annotator.services.embeddings import MissingVectors, load_vectors, ready_embedding_set
from config.enqueue import enqueue_on_commit
from models_zoo.active_learning import scoring
from models_zoo.active_learning.queue_strategies import AL_STRATEGIES
from models_zoo.models import ModelVersion, Prediction
from models_zoo.services.cold_start import (
    effective_version,
    own_current_version,
    query_priorities,
    transfer_version_id,
)

logger = logging.getLogger(__name__)

UNSCORED = -1.0
# margin_diverse: the diverse batch spans this many picks, chosen among m x batch candidates.
DIVERSE_BATCH = 20
DIVERSE_M = 5
_WRITE_CHUNK = 20_000


def _current_predictions(project: Project) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """(labels, example ids, scores) of the version that drives the queue: the project's
    current one, else its transfer model version (issue 18)."""
    version, _transfer = effective_version(project)
    if version is None:
        return None
    labels = [str(x) for x in version.labels]
    ids: list[int] = []
    rows: list[list[float]] = []
    query = Prediction.objects.filter(model_version=version).values_list("example_id", "scores")
    for example_id, scores in query.iterator(chunk_size=10_000):
        ids.append(example_id)
        rows.append([float(scores.get(name, 0.0)) for name in labels])
    probs = np.asarray(rows, dtype=np.float64).reshape(len(ids), len(labels))
    return labels, np.asarray(ids, dtype=np.int64), probs


def _span_priorities(project: Project) -> tuple[np.ndarray, np.ndarray]:
    """Spans: (ids, 1 - mean per-word confidence) from the current version's stored
    predictions; rows without a confidence (written before it was stored) stay unscored."""
    version = ModelVersion.objects.filter(project=project, is_current=True).first()
    if version is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    rows = list(
        Prediction.objects.filter(model_version=version, confidence__isnull=False)
        .values_list("example_id", "confidence")
        .iterator(chunk_size=10_000)
    )
    ids = np.asarray([r[0] for r in rows], dtype=np.int64)
    return ids, scoring.span_uncertainty(np.asarray([r[1] for r in rows], dtype=np.float64))


def _diverse_set(project: Project) -> Any:
    """The embedding set margin_diverse spreads its batch on: when the current version is a
    clip_fusion one, the project's ready set for its `clip` checkpoint (text and image vectors,
    issue 23: an image-only example is no empty text there); else the default set."""
    version = (ModelVersion.objects.filter(project=project, is_current=True)
               .values_list("backend", "config").first())
    if version is not None and version[0] == "clip_fusion":
        clip = (version[1] or {}).get("clip")
        found = ready_embedding_set(project, clip) if isinstance(clip, str) and clip else None
        if found is not None:
            return found
    return ready_embedding_set(project)


def _diverse_lift(project: Project, ids: np.ndarray, base: np.ndarray, seed: int) -> np.ndarray:
    """margin_diverse: +1 for the diverse batch, on the stored vectors of the candidates only
    (never the whole project's vectors)."""
    out = base.copy()
    embedding_set = _diverse_set(project)
    if embedding_set is None or len(ids) == 0:
        logger.info("margin_diverse for project %s: no embedding set, plain margin", project.pk)
        return out
    top = np.argsort(-base, kind="stable")[: DIVERSE_M * DIVERSE_BATCH]
    try:
        _, vectors = load_vectors(embedding_set, ids[top].tolist())
    except MissingVectors:
        logger.info("margin_diverse for project %s: vectors missing, plain margin", project.pk)
        return out
    rng = np.random.default_rng(seed)
    chosen = scoring.diverse_batch(base[top], np.asarray(vectors), DIVERSE_BATCH, DIVERSE_M, rng)
    out[top[chosen]] += 1.0
    return out


def strategy_in_force(project: Project) -> str:
    """The strategy whose priorities the queue serves: `query` hands over to `queue_then`
    once the project has a current model of its own (issue 18)."""
    name = project.queue_strategy
    if name == "query" and own_current_version(project) is not None:
        return project.queue_then or "margin"
    return name


def compute_priorities(project: Project, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(example ids, priorities) under the project's strategy; empty when nothing applies."""
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0))
    name = strategy_in_force(project)
    if name not in AL_STRATEGIES:
        return empty
    if name == "query":
        return query_priorities(project) or empty
    if project.task_type == "spans" and name in scoring.UNCERTAINTY:
        return _span_priorities(project)
    current = _current_predictions(project)
    if current is None:
        return empty
    labels, ids, probs = current
    if len(ids) == 0:
        return empty
    if name == "likely_positive":
        if project.queue_label not in labels:
            return empty
        return ids, scoring.likely_positive(probs, labels.index(project.queue_label))
    if name == "margin_diverse":
        return ids, _diverse_lift(project, ids, scoring.margin(probs, project.task_type), seed)
    return ids, scoring.priorities(name, probs, project.task_type)


def rescore_project(project_id: int, seed: int = 0) -> int:
    """Recompute and store every example's `al_score`; returns how many got a score (0 when
    the project is gone: a late job is harmless)."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return 0
    ids, values = compute_priorities(project, seed)
    table = Example._meta.db_table
    # Examples an admin sent to the front of the queue (queue_key >= 1, data browser's
    # models_zoo.services.browse_bulk.send_to_front) keep their raised priority.
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET al_score = %s WHERE project_id = %s AND al_score <> %s"
            " AND queue_key < 1",
            [UNSCORED, project_id, UNSCORED],
        )
        for start in range(0, len(ids), _WRITE_CHUNK):
            chunk_ids = ids[start:start + _WRITE_CHUNK].tolist()
            chunk_values = values[start:start + _WRITE_CHUNK].astype(float).tolist()
            cur.execute(
                f"UPDATE {table} AS e SET al_score = v.s "
                "FROM unnest(%s::bigint[], %s::float8[]) AS v(id, s) "
                "WHERE e.id = v.id AND e.project_id = %s AND e.queue_key < 1",
                [chunk_ids, chunk_values, project_id],
            )
    return len(ids)


def request_rescore(project: Project, on_refused: Callable[[str], None] | None = None) -> None:
    """Rescore in the background once the transaction commits (strategy or label changed).
    A broker that refuses calls `on_refused(reason)` and raises BrokerUnavailable (503)."""
    enqueue_on_commit("vigia.rescore_queue", [project.pk], on_refused=on_refused)


def why_picked(project: Project, example: Example) -> dict[str, Any]:
    """{"reason", "score", "text"}: why the queue handed `example` out under the project's
    strategy ("model unsure: 0.48", "likely positive for HS: 0.91", "mined proposal: 0.83")."""
    name = project.queue_strategy or "random"
    if name == "query":
        name = strategy_in_force(project)
    reason, score = "random order", None
    if name == "sequential":
        reason = "import order"
    elif name == "proposals":
        s_an = example.mining_proposals.order_by("-run_id").values_list("s_an", flat=True).first()
        reason, score = "mined proposal", s_an
    elif name in AL_STRATEGIES:
        value = Example.objects.filter(pk=example.pk).values_list("al_score", flat=True).first()
        transfer = name != "query" and transfer_version_id(project) is not None
        if value is None or value < 0:
            reason = ("not scored yet (no description or embeddings)" if name == "query"
                      else "not scored yet (no current model prediction)")
        elif name == "query":
            reason, score = "close to your description", value
        elif name == "likely_positive":
            reason, score = f"likely positive for {project.queue_label}", value
        elif name == "margin_diverse" and value > 1.0:
            reason, score = "model unsure (diverse pick)", value - 1.0
        else:
            reason, score = "model unsure", value
        if transfer and score is not None:
            reason += f" (transferred model {project.transfer_model_version_id})"
    score = None if score is None else round(float(score), 4)
    text = reason if score is None else f"{reason}: {score:.2f}"
    return {"reason": reason, "score": score, "text": text}


def rescore_if_current(project_id: int, version_id: int) -> int:
    """After `version_id` predicted the project: rescore when it is (still) the current model
    and the project's queue is an active-learning one; returns how many got a score."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None or project.queue_strategy not in AL_STRATEGIES:
        return 0
    in_force = transfer_version_id(project) == version_id  # a transfer model (issue 18)
    if not in_force and not ModelVersion.objects.filter(
            pk=version_id, project_id=project_id, is_current=True).exists():
        return 0
    return rescore_project(project_id)
