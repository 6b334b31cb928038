"""The `proposals` queue strategy: a mining run's pending proposals, highest S_an first."""
from __future__ import annotations

from annotator.mining.proposals import queue_run, serve_in_queue
from annotator.models import MiningRun, Project
from annotator.services import queue
from annotator.services.annotations import save_annotation
from annotator.services.queue_strategies import ProposalsStrategy, get_strategy
from models_zoo.mining.service import create_mining_run, mine_run
from tests.annotator.mining_store import cosine_project


def mine(project, owner, **data):
    run = create_mining_run(project, owner, {"label": "HS", **data}, enqueue_job=False)
    return mine_run(MiningRun.objects.select_related("project").get(pk=run.pk))


def test_the_strategy_is_built_from_context_and_filters_on_the_run():
    strategy = get_strategy("proposals", {"run_id": 7, "ignored": 1})
    assert isinstance(strategy, ProposalsStrategy)
    assert strategy.extra_filter() == {"mining_proposals__run_id": 7, "mining_proposals__status": "pending"}
    assert get_strategy("proposals").extra_filter() == {"pk__in": []}
    assert get_strategy("random", {"run_id": 7}).name == "random"


def test_the_queue_serves_pending_proposals_only_highest_s_an_first(project, owner, annotator_user):
    mined = cosine_project(project)
    Project.objects.filter(pk=project.pk).update(queue_strategy="proposals")
    project.refresh_from_db()
    assert queue.next_example(project, annotator_user) is None  # no run yet: nothing to serve
    run = mine(project, owner, band=1)
    served = []
    for _ in range(4):
        example = queue.next_example(project, annotator_user)
        if example is None:
            break
        served.append(example.pk)
        save_annotation(user=annotator_user, example=example, labels=[], spans=[])
    assert served == [mined["pool"][c].pk for c in (0.7, 0.6, 0.5)]
    assert set(run.proposals.values_list("status", flat=True)) == {"confirmed_negative"}


def test_an_admin_picks_which_run_serves_the_queue(project, owner, annotator_user):
    mined = cosine_project(project)
    band1 = mine(project, owner, band=1)
    band2 = mine(project, owner, band=2, n=1)
    assert queue_run(project) == band2  # the latest by default
    serve_in_queue(band1)
    project.refresh_from_db()
    assert project.queue_strategy == "proposals" and queue_run(project) == band1
    assert queue.next_example(project, annotator_user).pk == mined["pool"][0.7].pk


def test_negatives_mode_runs_are_not_served(project, owner, annotator_user):
    cosine_project(project)
    mine(project, owner, band=1, mode="negatives")
    Project.objects.filter(pk=project.pk).update(queue_strategy="proposals")
    project.refresh_from_db()
    assert queue_run(project) is None
    assert queue.next_example(project, annotator_user) is None
