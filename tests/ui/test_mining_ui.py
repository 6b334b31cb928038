"""Mining and its proposals queue in a real Chromium: an admin mines band 1 from the page and
serves it in the annotate queue; an annotator confirms one proposal and flips another; the
database and the run page's per-band figures show both."""
from __future__ import annotations

import pytest

from annotator.models import Annotation, MiningRun, Proposal
from models_zoo.mining.service import mine_run
from tests.annotator.mining_store import cosine_project

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def test_an_annotator_confirms_one_proposal_and_flips_another(
    login, live_server, project, owner, annotator_user, shot
):
    mined = cosine_project(project)
    admin = login(owner)
    admin.goto(f"{live_server.url}/projects/{project.pk}/")
    admin.click("#mining-link")
    admin.wait_for_selector("#mining-form")
    admin.select_option("select[name=label]", "HS")
    admin.select_option("select[name=band]", "1")
    admin.fill("input[name=seed]", "5")
    admin.click("#mining-form button[type=submit]")
    admin.wait_for_selector("#run-state")
    run = MiningRun.objects.get(project=project)
    assert (run.label, run.band, run.seed, run.state) == ("HS", 1, 5, "queued")
    # No worker in this test: run the job body here, as the worker would.
    mine_run(MiningRun.objects.select_related("project").get(pk=run.pk))
    admin.reload()
    admin.wait_for_selector("svg.histogram rect.picked")
    assert admin.locator("#proposed").inner_text() == "3"
    shot(admin, "mining-run")
    admin.click("#serve-btn")
    admin.wait_for_selector("#serving")

    page = login(annotator_user)
    page.goto(f"{live_server.url}/projects/{project.pk}/annotate/")
    top, second = mined["pool"][0.7], mined["pool"][0.6]
    page.wait_for_selector(f'#workspace[data-example="{top.pk}"]')
    assert "Mined as a difficult negative for HS: is it really not HS?" in page.inner_text("#mined-banner")
    shot(page, "proposal")
    page.keyboard.press("Enter")  # nothing ticked: confirmed, not HS
    page.wait_for_selector(f'#workspace[data-example="{second.pk}"]')
    page.keyboard.press("1")  # HS after all
    page.keyboard.press("Enter")
    page.wait_for_selector(f'#workspace:not([data-example="{second.pk}"])')

    assert Annotation.objects.get(example=top, user=annotator_user).labels == []
    assert Annotation.objects.get(example=second, user=annotator_user).labels == ["HS"]
    statuses = dict(Proposal.objects.filter(run=run).values_list("example_id", "status"))
    assert statuses[top.pk] == "confirmed_negative"
    assert statuses[second.pk] == "turned_positive"

    admin.reload()
    row = admin.locator('.bands tr[data-band="1"]')
    assert row.locator(".turned").inner_text() == "1"
    assert row.locator(".confirmed").inner_text() == "1"
    shot(admin, "mining-run-after")
    admin.goto(f"{live_server.url}/projects/{project.pk}/mining/")
    shot(admin, "mining-page")


def test_the_experiment_page_shows_the_table_and_the_plot(login, live_server, project, owner, shot):
    from annotator.models import NegativesExperiment
    from models_zoo.mining.experiment import run_negatives_experiment
    from tests.annotator.test_negatives_experiment import synthetic

    v, pos, groups = synthetic(n_pos=20, n_neg=220)
    result = run_negatives_experiment(v, pos, groups, seeds=[0, 1], n_train_positives=20, p=100)
    experiment = NegativesExperiment.objects.create(
        project=project, label="HS", seeds=[0, 1], n_train_positives=20, state="succeeded",
        result=result, elapsed_s=1.5,
    )
    admin = login(owner)
    admin.goto(f"{live_server.url}/projects/{project.pk}/mining/experiments/{experiment.pk}/")
    admin.wait_for_selector("svg.experiment-plot")
    rows = admin.locator("#experiment-table tbody tr")
    assert rows.count() == 4
    assert admin.locator('#experiment-table tr[data-setting="2sigma"] td').first.inner_text() == "2σ"
    shot(admin, "experiment")
