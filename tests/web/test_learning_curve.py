# ruff: noqa: F811  (fixtures imported from tests.models_zoo.services.helpers are parameters)
"""The versions page's learning curve (server SVG) and stopping hint; training predicts the
stop set for the hint."""
from __future__ import annotations

from django.test import Client

from annotator.models import Example
from models_zoo.models import ModelVersion, Prediction
from models_zoo.services.learning_curve import STOP_SET_SIZE, stop_set_ids
from models_zoo.services.training import start_training_run
from models_zoo.services.training_worker import run_training
from tests.models_zoo.services.helpers import (  # noqa: F401 - fixtures
    annotated_project,
    artifacts_dir,
    stepping_backend,
)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _version(project, n, f1, decisions):
    version = ModelVersion.objects.create(
        project=project, backend="stepping", artifact_dir="/nowhere", labels=["HS", "TR", "AG"],
        metrics={"f1_macro": f1, "per_class": {"HS": {"f1": f1 - 0.1}, "TR": {"f1": f1},
                                               "AG": {"f1": f1 + 0.1}}},
        data_snapshot={"counts": {"examples": n, "train": n - 5, "validation": 5}},
    )
    ids = stop_set_ids(project.pk)
    Prediction.objects.bulk_create(
        Prediction(example_id=i, model_version=version, labels=d) for i, d in zip(ids, decisions, strict=False)
    )
    return version


def test_the_page_plots_f1_against_labels_and_shows_kappas(annotated_project, owner):
    stable = [["HS"]] * 10 + [[]] * 10
    _version(annotated_project, 20, 0.40, [["HS"]] * 20)
    _version(annotated_project, 40, 0.55, stable)
    page = client_for(owner).get(f"/models/projects/{annotated_project.pk}/versions/").content.decode()
    assert '<svg class="learning-curve"' in page
    assert 'data-series="F1 macro"' in page and 'data-series="F1 AG"' in page
    # Second version disagrees on 10 of 20 examples x 1 label of 3 -> kappa on 60 decisions:
    # po = 50/60; p_yes: 20/60 vs 10/60 -> pe = (1/3)(1/6) + (2/3)(5/6) = 11/18; kappa = .571
    assert "0.571" in page
    assert 'id="stop-hint"' not in page


def test_three_stable_versions_show_the_stopping_hint(annotated_project, owner):
    decisions = [["HS", "TR"]] * 10 + [[]] * 10
    for n in (20, 40, 60, 80):
        _version(annotated_project, n, 0.6, decisions)
    page = client_for(owner).get(f"/models/projects/{annotated_project.pk}/versions/").content.decode()
    assert 'id="stop-hint"' in page
    assert "more labels of this kind are unlikely to help" in page


def test_training_predicts_the_stop_set(annotated_project, owner, stepping_backend):
    run = start_training_run(annotated_project, stepping_backend, {}, owner)
    version = run_training(run.pk)
    assert version is not None
    expected = min(STOP_SET_SIZE, Example.objects.filter(project=annotated_project).count())
    stored = Prediction.objects.filter(model_version=version)
    assert stored.count() == expected
    assert set(stored.values_list("example_id", flat=True)) == set(stop_set_ids(annotated_project.pk))
