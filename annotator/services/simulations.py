"""Active-learning simulations: parse the request, run the job on the project's labelled
examples and cached vectors (annotator.active_learning.simulation), answer JSON and CSV."""
from __future__ import annotations

import csv
import io
import logging
from typing import Any

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from annotator.active_learning.simulation import SIMULATION_STRATEGIES, simulate
from annotator.models import Project, TaskType
from annotator.models_simulation import Simulation, SimulationState
from config.enqueue import enqueue_on_commit
from config.failures import public_reason

logger = logging.getLogger(__name__)
SIMULATE_TASK = "vigia.simulate"

DEFAULTS = {"strategies": ["random", "margin"], "n0": 100, "batch": 50, "rounds": 10, "seeds": 3,
            "test_fraction": 0.2}
LIMITS = {"n0": (1, 100_000), "batch": (1, 10_000), "rounds": (1, 100), "seeds": (1, 10)}


class SimulationError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def parse_params(project: Project, data: Any) -> dict[str, Any]:
    """Validated parameters (defaults filled in); SimulationError names the bad field."""
    if not isinstance(data, dict):
        raise SimulationError("non_field_errors", "expected a JSON object")
    unknown = set(data) - {*DEFAULTS, "label"}
    if unknown:
        raise SimulationError(sorted(unknown)[0], "unknown field")
    params = {**DEFAULTS, **data}
    strategies = params["strategies"]
    if not isinstance(strategies, list) or not strategies or not all(isinstance(s, str) for s in strategies):
        raise SimulationError("strategies", "a non-empty list of queue strategy names")
    for name in strategies:
        if name not in SIMULATION_STRATEGIES:
            raise SimulationError("strategies", f"{name!r} cannot be simulated; choose among "
                                  f"{', '.join(SIMULATION_STRATEGIES)}")
    params["strategies"] = list(dict.fromkeys(strategies))
    for key, (low, high) in LIMITS.items():
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SimulationError(key, f"an integer from {low} to {high}")
    fraction = params["test_fraction"]
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0.05 <= fraction <= 0.9:
        raise SimulationError("test_fraction", "a number from 0.05 to 0.9")
    params["test_fraction"] = float(fraction)
    names = list(project.labels.values_list("name", flat=True))
    label = params.get("label") or (project.queue_label or None)
    if "likely_positive" in params["strategies"]:
        if not label:
            raise SimulationError("label", "likely_positive needs the label to find positives of")
    if label is not None and label not in names:
        raise SimulationError("label", f"unknown label {label!r}; labels: {', '.join(names)}")
    params["label"] = label
    if project.task_type == TaskType.SPANS:
        raise SimulationError("project", "span projects cannot be simulated (no vector head)")
    return params


def create_simulation(project: Project, user: AbstractBaseUser | None, data: Any) -> Simulation:
    """Store a queued simulation and enqueue `vigia.simulate` once the transaction commits.
    A broker that refuses fails the row with the reason and raises BrokerUnavailable (503)."""
    params = parse_params(project, data)
    with transaction.atomic():
        simulation = Simulation.objects.create(project=project, created_by=user, params=params)
        simulation_id = simulation.pk
        enqueue_on_commit(SIMULATE_TASK, [simulation_id],
                          on_refused=lambda reason: _not_queued(simulation_id, reason))
    return simulation


def _not_queued(simulation_id: int, reason: str) -> None:
    Simulation.objects.filter(pk=simulation_id).update(
        state=SimulationState.FAILED, error=f"could not enqueue the simulation task: {reason}",
        finished_at=timezone.now(),
    )


def _data(project: Project) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(labels, vectors, gold matrix) of the project's labelled examples that have vectors."""
    from annotator.services.embeddings import load_vectors, ready_embedding_set
    from models_zoo.services.datasets import gold_examples

    embedding_set = ready_embedding_set(project)
    if embedding_set is None:
        raise SimulationError("embeddings", "the project has no ready embedding set: embed it first")
    labels = list(project.labels.values_list("name", flat=True))
    golds = {g.example_id: g.labels for g in gold_examples(project)}
    ids, vectors = load_vectors(embedding_set)
    keep = np.array([int(i) in golds for i in ids], dtype=bool)
    ids, vectors = ids[keep], np.asarray(vectors)[keep]
    y = np.array([[name in golds[int(i)] for name in labels] for i in ids], dtype=np.int64)
    return labels, vectors, y.reshape(len(ids), len(labels))


def run_simulation(simulation_id: int) -> Simulation:
    """The job body: mark running, simulate with progress, store the result (or the error)."""
    simulation = Simulation.objects.select_related("project").get(pk=simulation_id)
    if simulation.state not in (SimulationState.QUEUED, SimulationState.RUNNING):
        return simulation  # redelivered after it finished
    Simulation.objects.filter(pk=simulation.pk).update(
        state=SimulationState.RUNNING, started_at=timezone.now(), progress=0.0)
    project, p = simulation.project, simulation.params
    try:
        labels, x, y = _data(project)
        needed = p["n0"] + 10
        if len(x) < needed:
            raise SimulationError("n0", f"only {len(x)} labelled examples with vectors; need at "
                                  f"least n0 + 10 = {needed}")
        last = [0.0]

        def progress(fraction: float) -> None:
            if fraction - last[0] >= 0.02 or fraction >= 1.0:
                last[0] = fraction
                Simulation.objects.filter(pk=simulation.pk).update(progress=round(fraction, 4))

        label_index = labels.index(p["label"]) if p.get("label") else None
        result = simulate(x, y, labels, project.task_type, p["strategies"], n0=p["n0"],
                          batch=p["batch"], rounds=p["rounds"], seeds=p["seeds"],
                          test_fraction=p["test_fraction"], label_index=label_index,
                          progress=progress)
    except Exception as exc:
        logger.exception("simulation %s failed", simulation.pk)
        message = exc.message if isinstance(exc, SimulationError) else public_reason(exc)
        Simulation.objects.filter(pk=simulation.pk).update(
            state=SimulationState.FAILED, error=message[:4000], finished_at=timezone.now())
    else:
        Simulation.objects.filter(pk=simulation.pk).update(
            state=SimulationState.SUCCEEDED, progress=1.0, finished_at=timezone.now(),
            result={**result.as_dict(), "n_examples": int(len(x))})
    simulation.refresh_from_db()
    return simulation


def simulation_payload(simulation: Simulation) -> dict[str, Any]:
    result = simulation.result or {}
    return {
        "id": simulation.pk, "project": simulation.project_id, "state": simulation.state,
        "progress": simulation.progress, "params": simulation.params,
        "full_f1": result.get("full_f1"), "curves": result.get("curves", {}),
        "aulc": result.get("aulc", {}), "labels_to_95": result.get("labels_to_95", {}),
        "n_examples": result.get("n_examples"), "error": simulation.error,
        "created_at": simulation.created_at, "finished_at": simulation.finished_at,
    }


def simulation_csv(simulation: Simulation) -> str:
    """strategy,labels,f1_mean,f1_sd rows, then the full F1 as a `full` row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["strategy", "labels", "f1_mean", "f1_sd"])
    result = simulation.result or {}
    for strategy, points in result.get("curves", {}).items():
        for point in points:
            writer.writerow([strategy, point["labels"], point["f1_mean"], point["f1_sd"]])
    if result.get("full_f1") is not None:
        writer.writerow(["full", result.get("n_examples", ""), result["full_f1"], ""])
    return out.getvalue()
