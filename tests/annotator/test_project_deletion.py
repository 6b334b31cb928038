"""Deleting a project set-based (one DELETE per table, issue 21): everything under its examples
goes, other projects keep theirs; the embedding store's deletion counter counts every deleted
example in the deleting statement, whatever deletes it; mined proposals still follow a user's
deleted annotation, and are not refreshed one by one when their example goes too."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotator.models import (
    Annotation,
    Assignment,
    EmbeddingSet,
    Example,
    MiningRun,
    Proposal,
    Sample,
    SampleMember,
)
from annotator.services.project_setup import delete_project
from models_zoo.models import ModelVersion, Prediction, PredictionDay, PredictionDayLabel
from tests.api.factories import annotate, make_example
from tests.conftest import make_project

pytestmark = pytest.mark.django_db

D0 = dt.datetime(2020, 5, 1, 12, tzinfo=dt.UTC)


def populate(project, user, n: int = 6) -> list[Example]:
    """Examples with everything that can hang off them: annotations, assignments, a sample,
    mined proposals, predictions (and so daily counts), an embedding set."""
    examples = [
        make_example(project, f"{project.pk} tweet {i}", posted_at=D0 + dt.timedelta(days=i % 3))
        for i in range(n)
    ]
    for e in examples[::2]:
        annotate(e, user, labels=["HS"])
        Assignment.objects.create(example=e, user=user)
    annotate(examples[1], None, labels=["TR"], source="import")
    sample = Sample.objects.create(project=project, field="retweet_count")
    run = MiningRun.objects.create(project=project, label="HS", state="succeeded")
    for e in examples[:3]:
        SampleMember.objects.create(sample=sample, example=e, stratum=0, weight=2.0)
        Proposal.objects.create(run=run, example=e, s_an=0.5, band=2, mu=0.4, sigma=0.1)
    version = ModelVersion.objects.create(
        project=project, backend="embedding_head", artifact_dir="-", labels=["HS"], is_current=True
    )
    Prediction.objects.bulk_create(
        Prediction(example=e, model_version=version, labels=["HS"] if i % 2 else [])
        for i, e in enumerate(examples)
    )
    EmbeddingSet.objects.create(project=project, state="ready")
    return examples


def rows_of(project) -> dict[str, int]:
    under = {"example__project": project}
    versions = ModelVersion.objects.filter(project=project)
    return {
        "examples": Example.objects.filter(project=project).count(),
        "annotations": Annotation.objects.filter(**under).count(),
        "assignments": Assignment.objects.filter(**under).count(),
        "sample members": SampleMember.objects.filter(**under).count(),
        "proposals": Proposal.objects.filter(**under).count(),
        "predictions": Prediction.objects.filter(**under).count(),
        "daily counts": PredictionDay.objects.filter(model_version__in=versions).count()
        + PredictionDayLabel.objects.filter(model_version__in=versions).count(),
    }


def test_deleting_a_project_removes_what_hangs_off_its_examples_and_nothing_else(owner):
    doomed, kept = make_project(owner), make_project(owner)
    populate(doomed, owner)
    populate(kept, owner)
    before = rows_of(kept)
    assert all(before.values())
    version_ids = list(ModelVersion.objects.filter(project=doomed).values_list("id", flat=True))
    with CaptureQueriesContext(connection) as ctx:
        delete_project(doomed, confirm_name=doomed.name)
    # Set-based: the examples are never listed (the ORM's cascade sends `example_id IN (...)`).
    listed = [q["sql"] for q in ctx.captured_queries if "example_id\" IN (" in q["sql"]]
    assert not listed and "DELETE FROM annotator_example WHERE project_id" in str(ctx.captured_queries)
    assert rows_of(kept) == before
    assert not Example.objects.filter(project_id=doomed.pk).exists()
    assert not Prediction.objects.filter(model_version_id__in=version_ids).exists()
    assert not PredictionDay.objects.filter(model_version_id__in=version_ids).exists()
    assert not Annotation.objects.filter(example__project_id=doomed.pk).exists()
    assert EmbeddingSet.objects.get(project=kept).deletions == 0


def test_the_deletion_counter_counts_every_deleted_example_in_the_statement(owner):
    project, other = make_project(owner), make_project(owner)
    examples = populate(project, owner, n=8)
    populate(other, owner, n=2)
    Example.objects.filter(pk__in=[e.pk for e in examples[:3]]).delete()
    assert EmbeddingSet.objects.get(project=project).deletions == 3
    examples[3].delete()
    with connection.cursor() as cur:  # a path that never sees a Django signal
        cur.execute("DELETE FROM annotator_annotation WHERE example_id = %s", [examples[4].pk])
        cur.execute("DELETE FROM annotator_assignment WHERE example_id = %s", [examples[4].pk])
        cur.execute("DELETE FROM annotator_proposal WHERE example_id = %s", [examples[4].pk])
        cur.execute("DELETE FROM annotator_samplemember WHERE example_id = %s", [examples[4].pk])
        cur.execute("DELETE FROM models_zoo_prediction WHERE example_id = %s", [examples[4].pk])
        cur.execute("DELETE FROM annotator_example WHERE id = %s", [examples[4].pk])
    assert EmbeddingSet.objects.get(project=project).deletions == 5
    assert EmbeddingSet.objects.get(project=other).deletions == 0


def test_proposals_follow_a_deleted_annotation_but_not_one_by_one_when_the_example_goes(
    owner, annotator_user
):
    project = make_project(owner)
    examples = populate(project, owner)
    run = MiningRun.objects.get(project=project)
    annotate(examples[2], annotator_user, labels=["HS"])
    Proposal.objects.filter(run=run).update(status="turned_positive")
    # The annotator's own annotation goes (an undo): its proposal is refreshed.
    Annotation.objects.get(example=examples[2], user=annotator_user).delete()
    Annotation.objects.get(example=examples[2], user=owner).delete()
    assert Proposal.objects.get(run=run, example=examples[2]).status == "pending"
    # The example goes (with its annotations): no refresh query per annotation.
    with CaptureQueriesContext(connection) as ctx:
        examples[0].delete()
    assert not [q for q in ctx.captured_queries if "annotator_proposal" in q["sql"]
                and q["sql"].lstrip().startswith(("SELECT", "UPDATE"))]
    assert not Proposal.objects.filter(example_id=examples[0].pk).exists()
