"""One project with a row behind every id a REST route takes, for the role matrix and the fuzzer.

`build_world(owner, annotator, viewer)` returns the path parameters (`project_id`, `example_id`,
...) that name real rows of a multilabel project where `owner` is admin, `annotator` annotates and
`viewer` reads.
"""
from __future__ import annotations

from django.contrib.auth import get_user_model

from annotator.models import Annotation, ImportJob, Membership, Role
from models_zoo.models import ModelVersion, TrainingRun
from tests.api.factories import make_example
from tests.conftest import make_project


def build_world(owner, annotator, viewer) -> dict[str, int]:
    project = make_project(owner)
    Membership.objects.create(user=annotator, project=project, role=Role.ANNOTATOR)
    Membership.objects.create(user=viewer, project=project, role=Role.VIEWER)
    # member_id names a fourth member: a member may remove themselves (leave), not others.
    other = get_user_model().objects.create(username="second-annotator")
    other_membership = Membership.objects.create(user=other, project=project, role=Role.ANNOTATOR)
    example = make_example(project, "Flooding on the main road", external_id="w1")
    make_example(project, "Nothing happening here", external_id="w2")
    # Both the annotator and the owner have an annotation to read, change and delete.
    Annotation.objects.create(example=example, user=annotator, labels=["HS"], source="human")
    Annotation.objects.create(example=example, user=owner, labels=["TR"], source="human")
    job = ImportJob.objects.create(project=project, created_by=owner, path="/nonexistent", format="csv")
    run = TrainingRun.objects.create(project=project, backend="embedding_head", state="succeeded")
    version = ModelVersion.objects.create(
        project=project, run=run, backend="embedding_head", artifact_dir="/nonexistent",
        labels=["HS", "TR", "AG"],
    )
    return {
        "project_id": project.pk,
        "example_id": example.pk,
        "label_id": project.labels.order_by("pk").first().pk,
        "member_id": other_membership.pk,
        "job_id": job.pk,
        "run_id": run.pk,
        "version_id": version.pk,
    }
