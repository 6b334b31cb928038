"""Slow: a real embedding_head run (packaged MiniLM) on CrisisLex T6 with one event held out as
the validation split, through the training service (needs ../shared/datasets)."""
from __future__ import annotations

import pytest

from annotator.models import Annotation, AnnotationSource, Example
from annotator.normalize import normalize
from models_zoo.models import RunState
from models_zoo.services.training import start_training_run
from models_zoo.services.training_worker import run_training
from tests.models_zoo.services.helpers import add_example

pytestmark = pytest.mark.slow

EVENTS = ("2012_Sandy_Hurricane", "2013_Boston_Bombings", "2013_Queensland_Floods")


def _boston_held_out(project, owner, monkeypatch):
    """The project of T6 Sandy + Queensland (80 each) training, Boston (80) validating."""
    from bench._data import read_crisislex_t6

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    project.labels.exclude(name="HS").delete()
    project.task_type = "binary"
    project.validation_split = {"kind": "group", "field": "event", "values": ["2013_Boston_Bombings"]}
    project.save()
    seen = set()
    for event in EVENTS:
        for item in read_crisislex_t6(event, 80, seed=0):
            if normalize(item.text) in seen:  # retweets: the project keeps one copy
                continue
            seen.add(normalize(item.text))
            example = add_example(project, item.text)
            example.meta = {"event": event}
            example.save()
            Annotation.objects.create(example=example, user=owner, source=AnnotationSource.HUMAN,
                                      labels=["HS"] if item.labels else [])


def test_a_held_out_event_validates_a_real_model(project, owner, artifacts_dir, datasets_dir, monkeypatch):
    _boston_held_out(project, owner, monkeypatch)
    # Thresholds from the validation split, as when this test was written: with issue 18's
    # default (cross-validation on the training events) the two training events' threshold does
    # not carry to the unseen one at 160 labels (ROC-AUC .835, F1 .43 on Boston), which says
    # nothing about the group split this test is about.
    run = start_training_run(project, "embedding_head",
                             {"device": "cpu", "threshold_calibration": "validation"}, owner)
    version = run_training(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    val_events = set(Example.objects.filter(pk__in=version.data_snapshot["validation_example_ids"])
                     .values_list("meta__event", flat=True))
    train_events = set(Example.objects.filter(pk__in=version.data_snapshot["train_example_ids"])
                       .values_list("meta__event", flat=True))
    assert val_events == {"2013_Boston_Bombings"}
    assert train_events == {"2012_Sandy_Hurricane", "2013_Queensland_Floods"}
    assert version.metrics["threshold_calibration"]["objective"] == "f1_macro"
    # on-topic F1 on the unseen event; frozen MiniLM + logistic regression gets ~.85-.9 on T6
    assert version.metrics["f1_macro"] > 0.7


def test_group_cross_validation_carries_the_threshold_to_the_unseen_event(project, owner, artifacts_dir,
                                                                          datasets_dir, monkeypatch):
    # Issue 18: thresholds picked on out-of-EVENT scores (Sandy scored by a head fitted on
    # Queensland and back) carry to Boston where stratified folds' did not: F1 .431 (threshold
    # .55) with cross_validation, .830 (threshold .40) with group_cross_validation (2026-12-07).
    _boston_held_out(project, owner, monkeypatch)
    run = start_training_run(project, "embedding_head",
                             {"device": "cpu", "threshold_calibration": "group_cross_validation"}, owner)
    version = run_training(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    report = version.metrics["threshold_calibration"]
    assert (report["method"], report["groups"], report["folds"], report["note"]) == (
        "group_cross_validation", 2, 2, "")
    assert version.metrics["f1_macro"] > 0.7
