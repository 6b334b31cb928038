"""Issue 18: a simulation round trains with the project's own recipe. On the same labels, a
round and a real training run (the service, on the embedding store) pick the same thresholds."""
from __future__ import annotations

import numpy as np
import pytest

from annotator.models import Annotation
from models_zoo.active_learning.simulation import simulate
from models_zoo.services.simulations import _data, project_recipe
from models_zoo.services.training import start_training_run
from models_zoo.services.training_worker import run_training
from tests.annotator.mining_store import add_example, store_vectors
from tests.conftest import make_project

pytestmark = pytest.mark.django_db


def noisy_project(owner, n=160, events=None):
    """A multi-label project (HS, TR) whose labels are noisy functions of the stored vectors,
    so calibrated thresholds move away from 0.5; the project sets its own objective and split."""
    project = make_project(owner, task_type="multilabel", labels=("HS", "TR"),
                           threshold_objective="f1_positive",
                           validation_split={"kind": "random", "fraction": 0.3})
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(n, 8))
    hs = vectors[:, 0] + rng.normal(size=n) * 1.2 > 0.8
    tr = vectors[:, 1] + rng.normal(size=n) * 1.2 > 0.5
    examples = []
    for i in range(n):
        e = add_example(project, f"tweet {i}", {"event": events[i % len(events)]} if events else None)
        labels = [name for name, flag in (("HS", hs[i]), ("TR", tr[i])) if flag]
        Annotation.objects.create(example=e, user=None, source="import", labels=labels)
        examples.append(e)
    store_vectors(project, examples, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    return project


def test_a_round_and_a_training_run_on_the_same_labels_give_the_same_thresholds(owner, settings, tmp_path):
    settings.VIGIA_ARTIFACTS_DIR = tmp_path / "artifacts"
    project = noisy_project(owner)
    recipe = project_recipe(project)
    assert recipe.config["threshold_objective"] == "f1_positive"  # the project's default
    assert recipe.split["kind"] == "random" and recipe.split["fraction"] == 0.3
    data = _data(project, None)
    rounds = []
    simulate(data["x"], data["y"], recipe, ["margin"], n0=60, batch=30, rounds=1, seeds=1,
             test_fraction=0.2, label_index=0, on_round=rounds.append)
    last = rounds[-1]
    assert len(last["rows"]) == 90 and last["model"] is not None
    labelled = {int(i) for i in data["ids"][last["rows"]]}
    # The project keeps exactly the round's labels; a real run trains on them.
    Annotation.objects.filter(example__project=project).exclude(example_id__in=labelled).delete()
    run = start_training_run(project, "embedding_head", {}, owner, enqueue=False)
    version = run_training(run.pk)
    assert version is not None, run.__class__.objects.get(pk=run.pk).error
    assert "90 of 90 from the embedding store" in run.__class__.objects.get(pk=run.pk).log
    assert version.thresholds == last["model"].thresholds
    assert set(version.thresholds.values()) != {0.5}  # calibrated, not the plain 0.5 rule
    real = version.metrics["threshold_calibration"]
    simulated = last["model"].metrics["threshold_calibration"]
    assert real["method"] == simulated["method"] == recipe.config["threshold_calibration"]
    assert real["per_label"]["HS"]["curve"] == simulated["per_label"]["HS"]["curve"]


def test_group_cross_validation_gives_the_same_thresholds_in_a_round_and_a_run(owner, settings, tmp_path):
    settings.VIGIA_ARTIFACTS_DIR = tmp_path / "artifacts"
    project = noisy_project(owner, events=("flood", "quake", "storm"))
    recipe = project_recipe(project)
    recipe.config["threshold_calibration"] = "group_cross_validation"
    data = _data(project, None, recipe.group_field)
    assert sorted(set(data["groups"])) == ["flood", "quake", "storm"]
    rounds = []
    simulate(data["x"], data["y"], recipe, ["margin"], n0=60, batch=30, rounds=1, seeds=1,
             test_fraction=0.2, label_index=0, groups=data["groups"], on_round=rounds.append)
    last = rounds[-1]
    labelled = {int(i) for i in data["ids"][last["rows"]]}
    Annotation.objects.filter(example__project=project).exclude(example_id__in=labelled).delete()
    run = start_training_run(project, "embedding_head", {"threshold_calibration": "group_cross_validation"},
                             owner, enqueue=False)
    version = run_training(run.pk)
    assert version is not None, run.__class__.objects.get(pk=run.pk).error
    real = version.metrics["threshold_calibration"]
    simulated = last["model"].metrics["threshold_calibration"]
    assert (real["method"], real["groups"], real["folds"]) == ("group_cross_validation", 3, 3)
    assert {k: real[k] for k in ("groups", "folds", "note")} == {k: simulated[k] for k in ("groups", "folds", "note")}
    assert version.thresholds == last["model"].thresholds
    assert real["per_label"]["HS"]["curve"] == simulated["per_label"]["HS"]["curve"]
