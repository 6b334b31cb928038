"""Validation by group or date range on real projects: the split used, the project's training
defaults filled into a run's config, and auto-promotion that refuses to compare splits."""
from __future__ import annotations

import pytest

from annotator.models import Annotation, AnnotationSource
from models_zoo.models import ModelVersion, RunState
from models_zoo.services.datasets import build_dataset
from models_zoo.services.training import TrainingRequestError, start_training_run
from models_zoo.services.training_worker import run_training
from models_zoo.services.versions import maybe_auto_promote, promote_version, split_warning
from tests.models_zoo.services.helpers import PATTERNS, add_example

EVENTS = ["sandy", "boston", "alberta", "oklahoma"]


def annotate_events(project, user, n=24):
    """`n` annotated examples, event = EVENTS[i % 4], created_at one day apart from 2013-01-01."""
    examples = []
    for i in range(n):
        text, labels = PATTERNS[i % len(PATTERNS)]
        example = add_example(project, f"{text} #{i}")
        example.meta = {"event": EVENTS[(i // 4) % len(EVENTS)], "created_at": f"2013-01-{i + 1:02d}T10:00:00Z"}
        example.save()
        Annotation.objects.create(example=example, user=user, labels=labels, source=AnnotationSource.HUMAN)
        examples.append(example)
    return examples


def test_a_group_split_holds_out_exactly_the_named_events(project, owner):
    examples = annotate_events(project, owner)
    dataset = build_dataset(project, seed=3, split={"kind": "group", "field": "event", "values": ["boston"]})
    by_id = {e.pk: e.meta["event"] for e in examples}
    val_events = {by_id[i] for i in dataset.snapshot["validation_example_ids"]}
    train_events = {by_id[i] for i in dataset.snapshot["train_example_ids"]}
    assert val_events == {"boston"}
    assert "boston" not in train_events and train_events == {"sandy", "alberta", "oklahoma"}
    assert dataset.snapshot["split"] == {"kind": "group", "field": "event", "values": ["boston"]}
    assert dataset.snapshot["counts"]["validation"] == 8  # events cycle every 4 examples: 2 blocks of 4


def test_a_date_split_trains_before_the_day(project, owner):
    annotate_events(project, owner)
    dataset = build_dataset(project, seed=3, split={"kind": "date", "before": "2013-01-19"})
    assert dataset.snapshot["counts"]["train"] == 18 and dataset.snapshot["counts"]["validation"] == 6
    assert dataset.snapshot["counts"]["excluded"] == 0


def test_a_split_with_an_empty_side_is_a_400_before_the_run_starts(project, owner, stepping_backend, artifacts_dir):
    annotate_events(project, owner)
    with pytest.raises(TrainingRequestError) as err:
        start_training_run(project, "stepping", {"validation_split": {"kind": "group", "field": "event",
                                                                       "values": ["texas"]}}, owner)
    assert err.value.status == 400
    assert err.value.errors[0]["field"] == "config.validation_split"
    assert "no annotated example has meta 'event' in ['texas']" in err.value.message
    with pytest.raises(TrainingRequestError, match="nothing is left to train on"):
        start_training_run(project, "stepping", {"validation_split": {"kind": "group", "field": "event",
                                                                       "values": EVENTS}}, owner)


def test_the_projects_split_fills_the_run_config_unless_the_run_gives_one(project, owner, stepping_backend, artifacts_dir):
    annotate_events(project, owner)
    project.validation_split = {"kind": "group", "field": "event", "values": ["sandy"]}
    project.save()
    run = start_training_run(project, "stepping", {}, owner, enqueue=False)
    assert run.config["validation_split"]["values"] == ["sandy"]
    version = run_training(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    assert version.data_snapshot["split"] == {"kind": "group", "field": "event", "values": ["sandy"]}
    assert "held-out event in [sandy]" in run.log
    override = start_training_run(project, "stepping", {"validation_split": {"kind": "random"}}, owner, enqueue=False)
    assert override.config["validation_split"]["kind"] == "random"


def test_the_projects_threshold_objective_fills_classifier_configs(project, owner):
    annotate_events(project, owner)
    project.threshold_objective = "target_recall"
    project.threshold_targets = {"HS": 0.8}
    project.save()
    run = start_training_run(project, "embedding_head", {}, owner, enqueue=False)
    assert run.config["threshold_objective"] == "target_recall"
    assert run.config["threshold_targets"] == {"HS": 0.8}
    run.delete()
    run = start_training_run(project, "embedding_head", {"threshold_objective": "none"}, owner, enqueue=False)
    assert run.config["threshold_objective"] == "none"


def test_threshold_targets_must_name_project_labels(project, owner):
    annotate_events(project, owner)
    with pytest.raises(TrainingRequestError) as err:
        start_training_run(project, "embedding_head", {"threshold_objective": "target_recall",
                                                       "threshold_targets": {"crisis": 0.9}}, owner)
    assert err.value.errors == [{"field": "config.threshold_targets",
                                 "message": "unknown label 'crisis'; labels are HS, TR, AG"}]


def _version(project, f1, split=None) -> ModelVersion:
    snapshot = {"seed": 1, "counts": {"train": 16, "validation": 4}}
    if split is not None:
        snapshot["split"] = split
    return ModelVersion.objects.create(project=project, backend="stepping", artifact_dir="/nowhere",
                                       labels=["HS", "TR", "AG"], metrics={"f1_macro": f1}, data_snapshot=snapshot)


def test_auto_promotion_refuses_versions_validated_on_different_splits(project):
    project.auto_promote = True
    project.save()
    current = promote_version(_version(project, 0.5))  # recorded before splits existed: random 20%
    held_out = _version(project, 0.9, {"kind": "group", "field": "event", "values": ["boston"]})
    assert maybe_auto_promote(held_out) is False
    held_out.refresh_from_db()
    assert held_out.promotion_note.startswith(
        "not auto-promoted: validated on a different split (held-out event in [boston]) than the "
        f"current version #{current.pk} (random stratified 20%)")
    assert ModelVersion.objects.get(is_current=True) == current
    same_kind = _version(project, 0.6, {"kind": "random", "fraction": 0.2})
    assert maybe_auto_promote(same_kind) is True
    assert split_warning([current, held_out, same_kind]).startswith("These versions were validated on 2 different splits")
    assert split_warning([current, same_kind]) == ""


def test_a_worse_version_on_the_same_split_says_why_it_stayed_out(project):
    project.auto_promote = True
    project.save()
    split = {"kind": "group", "field": "event", "values": ["boston"]}
    current = promote_version(_version(project, 0.5, split))
    worse = _version(project, 0.4, split)
    assert maybe_auto_promote(worse) is False
    worse.refresh_from_db()
    assert worse.promotion_note == (f"not auto-promoted: validation F1 macro (mean over labels) 0.400 does not "
                                    f"beat the current version #{current.pk}'s 0.500")


def test_a_real_run_records_its_objective_split_and_curves(project, owner, artifacts_dir, monkeypatch):
    from tests.models_zoo.tiny_hf import tiny_bert_dir

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    annotate_events(project, owner)
    project.threshold_objective = "f1_macro"
    project.validation_split = {"kind": "group", "field": "event", "values": ["alberta"]}
    project.save()
    run = start_training_run(project, "embedding_head", {"encoder": str(tiny_bert_dir()), "device": "cpu"}, owner)
    version = run_training(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    calibration = version.metrics["threshold_calibration"]
    assert calibration["objective"] == "f1_macro"
    assert {label: pick["threshold"] for label, pick in calibration["per_label"].items()} == version.thresholds
    assert version.data_snapshot["split"]["values"] == ["alberta"]
    assert version.data_snapshot["counts"]["validation"] == 4  # examples 8-11 (24 cycle through 4 events by 4s)
