"""Active-learning simulations: parse the request, run the job on the project's labelled
examples and cached vectors (models_zoo.active_learning.simulation) with the project's own
training recipe, answer JSON and CSV.

Issue 18: every round trains as a real run of this project would (models_zoo.recipe); the
request may simulate a rarer stream (`prevalence`), a cold start (`start`: random, nearest to a
description, another project's likely positives, keyword hits) and a goal (`target_f1`).
"""
from __future__ import annotations

import csv
import io
import logging
from typing import Any

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from annotator.gold import gold_examples
from annotator.models import Example, Project, TaskType
from annotator.models_simulation import Simulation, SimulationState
from annotator.services.embeddings import load_vectors
from config.enqueue import enqueue_on_commit
from config.failures import public_reason
from models_zoo.active_learning.simulation import LABEL_STRATEGIES, SIMULATION_STRATEGIES, simulate
from models_zoo.recipe import TrainingRecipe
from models_zoo.services.cold_start import usable_embedding_set
from models_zoo.services.simulation_starts import build_starts, parse_starts
from models_zoo.services.training import backend_class, validate_config
from models_zoo.services.training_defaults import with_project_defaults

logger = logging.getLogger(__name__)
SIMULATE_TASK = "vigia.simulate"

DEFAULTS = {"strategies": ["random", "margin"], "n0": 100, "batch": 50, "rounds": 10, "seeds": 3,
            "test_fraction": 0.2, "prevalence": None, "start": "random", "target_f1": None}
LIMITS = {"n0": (1, 100_000), "batch": (1, 10_000), "rounds": (1, 100), "seeds": (1, 10)}


class SimulationError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def project_recipe(project: Project, encoder: str | None = None) -> Any:
    """The recipe a training run of this project would use on vectors (issue 18): embedding_head
    with its defaults, completed with the project's training defaults (validation split,
    threshold objective and targets) exactly as `start_training_run` completes a run's config;
    `encoder`: the embedding set's encoder the vectors come from. A project that retrains
    another backend gets embedding_head with its defaults, and the recipe says so."""
    cls = backend_class("embedding_head")
    config = validate_config(cls, with_project_defaults(project, cls, {}))
    if encoder:
        config["encoder"] = encoder
    backend = project.retrain_backend or "embedding_head"
    note = "" if backend == "embedding_head" else (
        f"the project retrains {backend}; simulated rounds fit embedding_head on the stored "
        "vectors with the project's training defaults")
    return TrainingRecipe(labels=list(project.labels.values_list("name", flat=True)),
                          task_type=project.task_type, config=config,
                          split=dict(config.get("validation_split") or {}), note=note)


def _number(params: dict[str, Any], key: str, low: float, high: float, open_low: bool = False,
            open_high: bool = False) -> float | None:
    value = params.get(key)
    if value is None:
        return None
    ok = not isinstance(value, bool) and isinstance(value, int | float)
    if ok:
        ok = (value > low if open_low else value >= low) and (value < high if open_high else value <= high)
    if not ok:
        bounds = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
        raise SimulationError(key, f"a number in {bounds}, or null")
    return float(value)


def parse_params(project: Project, data: Any, user: AbstractBaseUser | None = None) -> dict[str, Any]:
    """Validated parameters (defaults filled in); SimulationError names the bad field. `user`
    must be able to read a `{"model_version": id}` start's project."""
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
    params["prevalence"] = _number(params, "prevalence", 0, 1, open_low=True, open_high=True)
    params["target_f1"] = _number(params, "target_f1", 0, 1, open_low=True)
    if project.task_type == TaskType.SPANS:
        raise SimulationError("project", "span projects cannot be simulated (no vector head)")
    names = list(project.labels.values_list("name", flat=True))
    label = params.get("label") or project.queue_label or (names[0] if len(names) == 1 else None)
    if label is not None and label not in names:
        raise SimulationError("label", f"unknown label {label!r}; labels: {', '.join(names)}")
    params["label"] = label
    needs = [s for s in params["strategies"] if s in LABEL_STRATEGIES]
    if needs and not label:
        raise SimulationError("label", f"{needs[0]} needs the label to find positives of")
    if params["prevalence"] is not None and not label:
        raise SimulationError("label", "a prevalence needs the label whose positives it counts")
    try:
        params["start"] = parse_starts(params["start"], project, user)
    except ValueError as exc:
        raise SimulationError("start", str(exc)) from None
    kinds = {s if isinstance(s, str) else next(iter(s)) for s in _as_list(params["start"])}
    if "model_version" in kinds and not label:
        raise SimulationError("label", "a model_version start needs the label whose likely "
                              "positives it picks")
    return params


def _as_list(start: Any) -> list[Any]:
    return start if isinstance(start, list) else [start]


def create_simulation(project: Project, user: AbstractBaseUser | None, data: Any) -> Simulation:
    """Store a queued simulation and send `vigia.simulate` once the transaction commits;
    config.enqueue.BrokerUnavailable (a 503) marks it failed with the reason."""
    params = parse_params(project, data, user)
    simulation = Simulation.objects.create(project=project, created_by=user, params=params)
    pk = simulation.pk

    def refused(reason: str) -> None:
        Simulation.objects.filter(pk=pk, state=SimulationState.QUEUED).update(
            state=SimulationState.FAILED, finished_at=timezone.now(),
            error=f"the task queue is unavailable: {reason}")

    enqueue_on_commit("vigia.simulate", [pk], on_refused=refused)
    return simulation


def _data(project: Project, split_field: str | None, group_field: str | None = None) -> dict[str, Any]:
    """The project's labelled examples that have vectors, in example id order: ids, vectors,
    gold matrix, texts (for keywords), metadata values of `split_field` and of `group_field`
    (group cross-validation), the encoder."""
    embedding_set = usable_embedding_set(project)
    if embedding_set is None:
        raise SimulationError("embeddings", "the project has no ready embedding set: embed it first")
    labels = list(project.labels.values_list("name", flat=True))
    golds = {g.example_id: g.labels for g in gold_examples(project)}
    ids, vectors = load_vectors(embedding_set)
    ids = np.asarray(ids, dtype=np.int64)
    keep = np.array([int(i) in golds for i in ids], dtype=bool)
    ids, vectors = ids[keep], np.asarray(vectors)[keep]
    order = np.argsort(ids, kind="stable")  # a training run reads its examples in id order
    ids, vectors = ids[order], vectors[order]
    y = np.array([[name in golds[int(i)] for name in labels] for i in ids], dtype=np.int64)
    rows = dict(Example.objects.filter(pk__in=ids.tolist()).values_list("pk", "normalized_text"))
    meta = (dict(Example.objects.filter(pk__in=ids.tolist()).values_list("pk", "meta"))
            if split_field or group_field else {})
    return {"labels": labels, "ids": ids, "x": vectors, "y": y.reshape(len(ids), len(labels)),
            "texts": [rows.get(int(i)) or "" for i in ids],
            "values": [(meta.get(int(i)) or {}).get(split_field) for i in ids] if split_field else None,
            "groups": [(meta.get(int(i)) or {}).get(group_field) for i in ids] if group_field else None,
            "encoder": embedding_set.encoder}


def run_simulation(simulation_id: int) -> Simulation:
    """The job body: mark running, simulate with progress, store the result (or the error)."""
    simulation = Simulation.objects.select_related("project").get(pk=simulation_id)
    if simulation.state not in (SimulationState.QUEUED, SimulationState.RUNNING):
        return simulation  # redelivered after it finished
    Simulation.objects.filter(pk=simulation.pk).update(
        state=SimulationState.RUNNING, started_at=timezone.now(), progress=0.0)
    project, p = simulation.project, simulation.params
    try:
        recipe = project_recipe(project)
        split = recipe.split or {}
        data = _data(project, (split.get("field") or "created_at") if split.get("kind") in ("group", "date") else None,
                     recipe.group_field)
        recipe.config["encoder"] = data["encoder"]
        x = data["x"]
        needed = p["n0"] + 10
        if len(x) < needed:
            raise SimulationError("n0", f"only {len(x)} labelled examples with vectors; need at "
                                  f"least n0 + 10 = {needed}")
        last = [0.0]

        def progress(fraction: float) -> None:
            if fraction - last[0] >= 0.02 or fraction >= 1.0:
                last[0] = fraction
                Simulation.objects.filter(pk=simulation.pk).update(progress=round(fraction, 4))

        label_index = data["labels"].index(p["label"]) if p.get("label") else None
        starts = build_starts(_as_list(p.get("start", "random")), project, data, label_index)
        result = simulate(x, data["y"], recipe, p["strategies"], n0=p["n0"], batch=p["batch"],
                          rounds=p["rounds"], seeds=p["seeds"], test_fraction=p["test_fraction"],
                          label_index=label_index, prevalence=p.get("prevalence"), starts=starts,
                          target_f1=p.get("target_f1"), values=data["values"], groups=data["groups"],
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
    params = simulation.params or {}
    return {
        "id": simulation.pk, "project": simulation.project_id, "state": simulation.state,
        "progress": simulation.progress, "params": params,
        "start": params.get("start", "random"), "prevalence": params.get("prevalence"),
        "target_f1": params.get("target_f1"),
        "full_f1": result.get("full_f1"), "full": result.get("full"),
        "curves": result.get("curves", {}),
        "aulc": result.get("aulc", {}), "labels_to_95": result.get("labels_to_95", {}),
        "labels_to_target": result.get("labels_to_target", {}),
        "starts": result.get("starts", []), "sizes": result.get("sizes"),
        "recipe": result.get("recipe"),
        "n_examples": result.get("n_examples"), "error": simulation.error,
        "created_at": simulation.created_at, "finished_at": simulation.finished_at,
    }


def start_name(start: Any) -> str:
    """A start's short name for tables and CSV: random, query, model_version:12, keywords."""
    if isinstance(start, str):
        return start
    kind, value = next(iter(start.items()))
    return f"model_version:{value}" if kind == "model_version" else kind


def simulation_csv(simulation: Simulation) -> str:
    """strategy,labels,f1_mean,f1_sd,start rows (every start), then the full F1 as a `full` row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["strategy", "labels", "f1_mean", "f1_sd", "start"])
    result = simulation.result or {}
    starts = result.get("starts") or [{"start": "random", "strategies": {
        name: {"overall": {"curve": points}} for name, points in result.get("curves", {}).items()}}]
    for start in starts:
        for strategy, figures in start["strategies"].items():
            for point in figures["overall"]["curve"]:
                writer.writerow([strategy, point["labels"], point["f1_mean"], point["f1_sd"],
                                 start_name(start["start"])])
    if result.get("full_f1") is not None:
        writer.writerow(["full", result.get("n_examples", ""), result["full_f1"], "", ""])
    return out.getvalue()
