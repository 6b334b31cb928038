"""Mining runs over a real embedding store on hand-placed vectors (see mining_store.POOL)."""
from __future__ import annotations

import pytest

from annotator.mining import algorithm as A
from annotator.mining.proposals import band_figures, refresh_proposals
from annotator.models import Annotation, MiningRun, Proposal
from annotator.services.annotations import save_annotation
from models_zoo.mining.service import create_mining_run, mine_run, run_mining
from tests.annotator.mining_store import cosine_project


@pytest.fixture
def mined(project):
    return cosine_project(project)


def start(project, owner, **data):
    run = create_mining_run(project, owner, {"label": "HS", **data}, enqueue_job=False)
    return mine_run(MiningRun.objects.select_related("project").get(pk=run.pk))


def test_band_2_proposes_the_only_eligible_example_and_records_mu_sigma(project, owner, mined):
    run = start(project, owner, band=2, n=1)
    assert run.state == "succeeded"
    assert run.mu == pytest.approx(0.457)
    assert run.sigma == pytest.approx(0.298732, abs=1e-5)
    # Band 2 (1 <= z < 2) holds 0.8 and 0.97; 0.97 is a near-duplicate of the positives.
    assert run.band_size == 2 and run.pool_size == 10 and run.positives == 3
    proposal = Proposal.objects.get(run=run)
    assert proposal.example == mined["pool"][0.8]
    assert proposal.s_an == pytest.approx(0.8, abs=1e-6)
    assert (proposal.band, proposal.status) == (2, "pending")
    assert proposal.mu == pytest.approx(0.457)
    assert sum(run.histogram["counts"]) == 10


def test_n_defaults_to_the_number_of_positives_and_band_1_holds_three(project, owner, mined):
    run = start(project, owner, band=1)
    assert run.n == 3
    picked = {p.example_id for p in run.proposals.all()}
    assert picked == {mined["pool"][c].pk for c in (0.5, 0.6, 0.7)}


def test_both_tails_add_the_lower_band(project, owner, mined):
    run = start(project, owner, band=1, tails="both", n=6)
    picked = {p.example_id for p in run.proposals.all()}
    assert picked == {mined["pool"][c].pk for c in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)}


def test_n_larger_than_the_band_is_refused_with_how_many_it_holds(project, owner, mined):
    with pytest.raises(A.BandTooSmall) as err:
        create_mining_run(project, owner, {"label": "HS", "band": 2, "n": 3}, enqueue_job=False)
    assert err.value.field == "n" and "band 2 holds 2" in err.value.message


def test_exclusions_that_leave_too_few_fail_the_run_saying_how_many(project, owner, mined):
    run = create_mining_run(project, owner, {"label": "HS", "band": 2, "n": 2}, enqueue_job=False)
    assert run_mining(run.pk) == "failed"
    run.refresh_from_db()
    assert run.state == "failed" and "band 2 holds 1 eligible" in run.error
    assert not Proposal.objects.filter(run=run).exists()


def test_a_label_without_positives_is_refused(project, owner, mined):
    with pytest.raises(A.MiningError) as err:
        create_mining_run(project, owner, {"label": "TR"}, enqueue_job=False)
    assert err.value.field == "label" and "no positives" in err.value.message


def test_the_same_seed_gives_the_same_draw(project, owner, mined):
    a = start(project, owner, band=1, n=2, seed=4)
    b = start(project, owner, band=1, n=2, seed=4)
    assert list(a.proposals.values_list("example_id", flat=True)) == list(
        b.proposals.values_list("example_id", flat=True))


def test_negatives_mode_stores_mined_annotations_that_training_uses_and_humans_override(
    project, owner, annotator_user, mined
):
    from models_zoo.services.datasets import gold_examples

    run = start(project, owner, band=1, mode="negatives")
    picked = sorted(run.proposals.values_list("example_id", flat=True))
    assert set(run.proposals.values_list("status", flat=True)) == {"mined_negative"}
    assert sorted(Annotation.objects.filter(source="mined").values_list("example_id", flat=True)) == picked
    gold = {g.example_id: g.labels for g in gold_examples(project)}
    assert all(gold[eid] == [] for eid in picked)
    # A human says the first one is HS after all: gold follows the human, the proposal too.
    example = mined["pool"][0.5] if mined["pool"][0.5].pk in picked else None
    assert example is not None
    save_annotation(user=annotator_user, example=example, labels=["HS"], spans=[])
    gold = {g.example_id: g.labels for g in gold_examples(project)}
    assert gold[example.pk] == ["HS"]
    assert Proposal.objects.get(run=run, example=example).status == "turned_positive"


def test_decisions_update_proposals_and_the_band_figures(project, owner, annotator_user, mined):
    run = start(project, owner, band=1)
    a, b, c = (mined["pool"][x] for x in (0.5, 0.6, 0.7))
    save_annotation(user=annotator_user, example=a, labels=[], spans=[])
    save_annotation(user=annotator_user, example=b, labels=["HS", "AG"], spans=[])
    statuses = dict(run.proposals.values_list("example_id", "status"))
    assert statuses == {a.pk: "confirmed_negative", b.pk: "turned_positive", c.pk: "pending"}
    figures = band_figures(MiningRun.objects.filter(pk=run.pk))
    assert figures[0] == {"band": 1, "proposals": 3, "decided": 2, "turned_positive": 1,
                          "confirmed_negative": 1, "pending": 1, "turned_positive_share": 0.5}
    assert figures[1]["proposals"] == 0 and figures[1]["turned_positive_share"] is None
    # Undo (the annotation goes): the proposal is pending again.
    Annotation.objects.filter(example=b, user=annotator_user).delete()
    assert Proposal.objects.get(run=run, example=b).status == "pending"
    assert refresh_proposals(b.pk) == 0
