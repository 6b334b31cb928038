"""One project with a row behind every id a REST route takes, for the role matrix and the fuzzer.

`build_world(owner, annotator, viewer)` returns the path parameters (`project_id`, `example_id`,
...) that name real rows of a multilabel project where `owner` is admin, `annotator` annotates and
`viewer` reads.
"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from annotator.models import Annotation, ImportJob, Membership, Role, Sample, SampleMember
from annotator.models_mining import MiningRun, NegativesExperiment, Proposal
from annotator.models_simulation import Simulation
from models_zoo.models import ModelVersion, PredictionJob, TrainingRun
from tests.api.factories import make_example
from tests.conftest import make_project

# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)


def build_world(owner, annotator, viewer) -> dict[str, int]:
    project = make_project(owner)
    Membership.objects.create(user=annotator, project=project, role=Role.ANNOTATOR)
    Membership.objects.create(user=viewer, project=project, role=Role.VIEWER)
    # member_id names a fourth member: a member may remove themselves (leave), not others.
    other = get_user_model().objects.create(username="second-annotator")
    other_membership = Membership.objects.create(user=other, project=project, role=Role.ANNOTATOR)
    example = make_example(project, "Flooding on the main road", external_id="w1")
    # An image only members may fetch (annotator.media), under an unguessable stored name.
    example.image.save("flood.png", ContentFile(PNG), save=True)
    second = make_example(project, "Nothing happening here", external_id="w2")
    # Both the annotator and the owner have an annotation to read, change and delete.
    Annotation.objects.create(example=example, user=annotator, labels=["HS"], source="human")
    Annotation.objects.create(example=example, user=owner, labels=["TR"], source="human")
    # Labels only another annotator gave: an annotator must not find w2 through any filter.
    Annotation.objects.create(example=second, user=other, labels=["AG"], source="human")
    job = ImportJob.objects.create(project=project, created_by=owner, path="/nonexistent", format="csv")
    run = TrainingRun.objects.create(project=project, backend="embedding_head", state="succeeded")
    version = ModelVersion.objects.create(
        project=project, run=run, backend="embedding_head", artifact_dir="/nonexistent",
        labels=["HS", "TR", "AG"],
    )
    # Samples, chunked prediction, mining and negatives experiments (issues 8 and 10).
    sample = Sample.objects.create(
        project=project, field="event", population=2, size=1, created_by=owner,
        strata=[{"name": "all", "population": 2, "size": 1}],
    )
    SampleMember.objects.create(sample=sample, example=example, stratum=0, weight=2.0)
    prediction_job = PredictionJob.objects.create(
        project=project, model_version=version, chunk_size=100, total_chunks=1, examples=2,
    )
    mining_run = MiningRun.objects.create(
        project=project, created_by=owner, label="HS", state="succeeded", mode="propose",
    )
    Proposal.objects.create(run=mining_run, example=example, s_an=0.5, band=2, mu=0.1, sigma=0.2)
    experiment = NegativesExperiment.objects.create(project=project, created_by=owner, label="HS")
    # Active-learning simulations (issue 9).
    simulation = Simulation.objects.create(project=project, created_by=owner, state="succeeded")
    # Downstream systems (issue 24): an API key, a webhook (to a closed loopback port, never
    # delivered in these tests) and a finished scoring job whose results have expired.
    from integrations.api_keys.service import create_api_key
    from integrations.models import ScoringJob, Webhook

    api_key = create_api_key(project, name="world key", scopes=["read"], created_by=owner).api_key
    webhook = Webhook.objects.create(project=project, url="https://127.0.0.1:9/hook",
                                     events=["model.promoted"], secret="whsec_world")
    scoring_job = ScoringJob.objects.create(
        project=project, model_version=version, input_format="jsonl", chunk_size=10,
        state="expired", rows=2, scored=2,
    )
    return {
        "project_id": project.pk,
        "example_id": example.pk,
        "label_id": project.labels.order_by("pk").first().pk,
        "member_id": other_membership.pk,
        "job_id": job.pk,
        "run_id": run.pk,
        "version_id": version.pk,
        "sample_id": sample.pk,
        "prediction_job_id": prediction_job.pk,
        "mining_run_id": mining_run.pk,
        "experiment_id": experiment.pk,
        "simulation_id": simulation.pk,
        "api_key_id": api_key.pk,
        "webhook_id": webhook.pk,
        "scoring_job_id": scoring_job.pk,
    }
