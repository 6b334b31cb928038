"""The negatives experiment as a job over a project's embedding store (see `experiment`).

Positives: examples whose gold labels include the label; the rest of the embedded examples
(annotated negatives and unlabelled ones, as seed 003's random-tweet pool) are the pool and the
held-out negatives. Groups: the value of `meta[group_field]`; examples without it sit out.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from annotator.mining import algorithm as A
from annotator.models import Example, Project
from annotator.models_embeddings import EmbeddingSet, EmbeddingState
from annotator.models_mining import MiningState, NegativesExperiment
from annotator.services.embeddings import (
    check_encoder,
    load_vectors,
    ready_embedding_set,
    request_embedding_set,
)
from annotator.services.projects import ProjectRuleError
from config.enqueue import BrokerUnavailable, enqueue_on_commit
from config.enqueue import enqueue as enqueue_task
from config.failures import public_reason
from models_zoo.mining.experiment import run_negatives_experiment
from models_zoo.mining.service import MAX_INT, MAX_WAITS, _int, positive_example_ids

logger = logging.getLogger(__name__)
EXPERIMENT_TASK = "vigia.negatives_experiment"


def create_experiment(project: Project, user: Any, data: Mapping[str, Any]) -> NegativesExperiment:
    """Validate and enqueue an experiment; MiningError names the bad field."""
    label = data.get("label")
    names = list(project.labels.values_list("name", flat=True))
    if not label or label not in names:
        raise A.MiningError("label", f"unknown label {label!r}; the project's labels: {', '.join(names)}.")
    group_field = data.get("group_field") or "event"
    if not isinstance(group_field, str):
        raise A.MiningError("group_field", "group_field must be a metadata field name.")
    groups = set(
        Example.objects.filter(project=project, **{f"meta__{group_field}__isnull": False})
        .order_by().values_list(f"meta__{group_field}", flat=True).distinct()[:3]
    )
    if len(groups) < 2:
        raise A.MiningError("group_field", f"need at least 2 values of meta field {group_field!r} to hold one out; found {len(groups)}.")
    if not positive_example_ids(project, label):
        raise A.MiningError("label", f"label {label!r} has no positives yet.")
    raw_seeds = data.get("seeds")
    if raw_seeds in (None, ""):
        seeds = [0, 1, 2]
    else:
        if isinstance(raw_seeds, str):
            raw_seeds = [s for s in raw_seeds.replace(",", " ").split() if s]
        if not isinstance(raw_seeds, list) or not raw_seeds or len(raw_seeds) > 20:
            raise A.MiningError("seeds", "seeds must be a list of 1 to 20 integers.")
        seeds = [_int({"seeds": s}, "seeds", 0, lo=0, hi=2**63 - 1) for s in raw_seeds]
    experiment = NegativesExperiment(
        project=project, created_by=user, label=label, group_field=group_field, seeds=seeds,
        n_train_positives=_int(data, "n_train_positives", 864, lo=1, hi=MAX_INT),
        test_ratio=_int(data, "test_ratio", 10, lo=1, hi=100),
        p=_int(data, "p", A.DEFAULT_P, lo=2, hi=MAX_INT),
        encoder=_encoder(data.get("encoder")),
    )
    with transaction.atomic():
        experiment.save()
        experiment_id = experiment.pk
        enqueue_on_commit(EXPERIMENT_TASK, [experiment_id],
                          on_refused=lambda reason: _not_queued(experiment_id, reason))
    return experiment


def _encoder(raw: Any) -> str:
    try:
        return check_encoder(raw)
    except ProjectRuleError as exc:
        raise A.MiningError("encoder", exc.message) from None


def _not_queued(experiment_id: int, reason: str) -> None:
    NegativesExperiment.objects.filter(pk=experiment_id).update(
        state=MiningState.FAILED, error=f"could not enqueue the task: {reason}",
        finished_at=timezone.now(),
    )


def enqueue(experiment_id: int, countdown: float | None = None) -> None:
    """Send the experiment's task (again, while it waits for vectors); a refusal fails it."""
    try:
        enqueue_task(EXPERIMENT_TASK, [experiment_id], countdown=countdown)
    except BrokerUnavailable as exc:
        _not_queued(experiment_id, exc.reason)
        raise


def _fail(experiment: NegativesExperiment, message: str) -> str:
    NegativesExperiment.objects.filter(pk=experiment.pk).update(
        state=MiningState.FAILED, error=message, finished_at=timezone.now()
    )
    return "failed"


def run_experiment(experiment_id: int) -> str:
    """Task body: "succeeded", "failed", "wait" (vectors not ready) or "skipped"."""
    experiment = NegativesExperiment.objects.select_related("project").filter(pk=experiment_id).first()
    if experiment is None or experiment.state in (MiningState.SUCCEEDED, MiningState.FAILED):
        return "skipped"
    project = experiment.project
    embedding_set = ready_embedding_set(project, experiment.encoder)
    if embedding_set is None:
        existing = EmbeddingSet.objects.filter(project=project, encoder=experiment.encoder).first()
        if existing is not None and existing.state == EmbeddingState.FAILED and experiment.waits > 0:
            return _fail(experiment, f"embedding set {existing.pk} failed: {existing.error}")
        if experiment.waits >= MAX_WAITS:
            return _fail(experiment, "embedding set not ready in time")
        if existing is None or experiment.waits == 0:
            request_embedding_set(project, experiment.encoder)
        NegativesExperiment.objects.filter(pk=experiment.pk).update(waits=experiment.waits + 1)
        return "wait"
    NegativesExperiment.objects.filter(pk=experiment.pk).update(state=MiningState.RUNNING)
    started = time.perf_counter()
    try:
        ids, vectors = load_vectors(embedding_set)
        field = experiment.group_field
        group_of = dict(
            Example.objects.filter(project=project, **{f"meta__{field}__isnull": False})
            .values_list("pk", f"meta__{field}")
        )
        keep = np.array([int(i) in group_of for i in ids], dtype=bool)
        rows = np.flatnonzero(keep)
        groups = np.array([str(group_of[int(i)]) for i in ids[rows]])
        positive = np.isin(ids[rows], positive_example_ids(project, experiment.label))
        result = run_negatives_experiment(
            np.asarray(vectors[rows]), positive, groups, seeds=experiment.seeds,
            n_train_positives=experiment.n_train_positives, test_ratio=experiment.test_ratio,
            p=experiment.p,
        )
    except A.MiningError as exc:
        return _fail(experiment, f"{exc.field}: {exc.message}")
    except Exception as exc:
        logger.exception("negatives experiment %s failed", experiment_id)
        return _fail(experiment, public_reason(exc))
    NegativesExperiment.objects.filter(pk=experiment.pk).update(
        state=MiningState.SUCCEEDED, result=result, error="", finished_at=timezone.now(),
        elapsed_s=round(time.perf_counter() - started, 3),
    )
    return "succeeded"


def experiment_payload(experiment: NegativesExperiment) -> dict[str, Any]:
    """The REST body of an experiment."""
    return {
        "id": experiment.pk, "state": experiment.state, "label": experiment.label,
        "group_field": experiment.group_field, "seeds": experiment.seeds,
        "n_train_positives": experiment.n_train_positives, "test_ratio": experiment.test_ratio,
        "p": experiment.p, "error": experiment.error, "elapsed_s": experiment.elapsed_s,
        "summary": (experiment.result or {}).get("summary", []),
        "groups": (experiment.result or {}).get("groups", []),
        "runs": (experiment.result or {}).get("runs", []),
    }
