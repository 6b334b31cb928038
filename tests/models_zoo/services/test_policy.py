from __future__ import annotations

import pytest

from annotator.models import Annotation
from models_zoo.models import RunState, TrainingRun
from models_zoo.services.policy import maybe_retrain, new_annotations_since_last_run
from tests.models_zoo.services.helpers import add_example


@pytest.fixture
def policy_project(annotated_project, stepping_backend):
    annotated_project.retrain_every = 5
    annotated_project.retrain_backend = "stepping"
    annotated_project.save()
    return annotated_project


def _annotate_new(project, user, n):
    for i in range(n):
        example = add_example(project, f"fresh example number {i}")
        Annotation.objects.create(example=example, user=user, labels=["HS"] if i % 2 else [])


def test_the_policy_is_off_by_default(annotated_project, stepping_backend):
    assert annotated_project.retrain_every is None
    assert maybe_retrain(annotated_project.pk) is None
    assert not TrainingRun.objects.exists()


def test_it_starts_a_run_after_n_human_annotations(policy_project):
    # 20 annotations and no run yet: the threshold of 5 is passed.
    run = maybe_retrain(policy_project.pk)
    assert run is not None and run.state == RunState.QUEUED and run.backend == "stepping"
    assert run.created_by is None


def test_it_counts_only_annotations_since_the_last_run(policy_project, owner):
    first = maybe_retrain(policy_project.pk)
    TrainingRun.objects.filter(pk=first.pk).update(state=RunState.SUCCEEDED)
    _annotate_new(policy_project, owner, 4)
    assert new_annotations_since_last_run(policy_project) == 4
    assert maybe_retrain(policy_project.pk) is None
    example = add_example(policy_project, "the fifth one")
    Annotation.objects.create(example=example, user=owner, labels=["TR"])
    assert maybe_retrain(policy_project.pk) is not None


def test_it_waits_while_a_run_is_active(policy_project):
    maybe_retrain(policy_project.pk)
    assert maybe_retrain(policy_project.pk) is None
    assert TrainingRun.objects.count() == 1


def test_saving_a_human_annotation_triggers_the_check_after_commit(
    policy_project, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        example = add_example(policy_project, "one more")
        Annotation.objects.create(example=example, user=owner, labels=["AG"])
    assert TrainingRun.objects.filter(project=policy_project, state=RunState.QUEUED).count() == 1
