"""The simulation and versions pages in a real Chromium: an admin starts a simulation from
the form, the job body runs, the page draws the curves and the table; the versions page draws
the learning curve."""
from __future__ import annotations

import pytest

from annotator.models import Simulation
from models_zoo.models import ModelVersion
from models_zoo.services.simulations import run_simulation
from tests.api.test_simulations import labelled_store

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def test_an_admin_simulates_and_reads_the_curves(login, live_server, project, owner, shot):
    labelled_store(project)
    page = login(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/queue/")
    page.click("#simulations-link")
    page.wait_for_selector("#simulation-form")
    page.check("input[value=entropy]")
    page.fill("input[name=n0]", "20")
    page.fill("input[name=batch]", "10")
    page.fill("input[name=rounds]", "4")
    page.fill("input[name=seeds]", "2")
    page.fill("input[name=test_fraction]", "0.25")
    page.select_option("select[name=label]", "HS")
    page.fill("input[name=prevalence]", "0.2")
    page.fill("input[name=target_f1]", "0.5")
    page.check("input[name=start_random]")
    page.fill("input[name=start_keywords]", "tweet, nothing")
    shot(page, "simulation-form")
    page.click("#simulation-form button[type=submit]")
    page.wait_for_selector("#simulation-state")
    sim = Simulation.objects.get()
    assert sim.params["strategies"] == ["random", "margin", "entropy"]
    assert sim.params["start"] == ["random", {"keywords": ["tweet", "nothing"]}]
    assert (sim.params["prevalence"], sim.params["target_f1"]) == (0.2, 0.5)
    run_simulation(sim.pk)  # no worker in this test: the job body, as the worker runs it
    page.wait_for_selector("svg.simulation-curve", timeout=20_000)  # htmx poll refreshes
    # One plot per start; per start a row per label and strategy (3 labels x 3 strategies).
    assert page.locator("section.simulation-start").count() == 2
    assert page.locator("section[data-start=keywords] .simulation-table tbody tr").count() == 9
    assert "Stream simulated at 0.2 positives of HS" in page.locator("#simulation-summary").inner_text()
    shot(page, "simulation")


def test_the_versions_page_draws_the_learning_curve(login, live_server, project, owner, shot):
    for n, f1 in ((20, 0.35), (60, 0.52), (120, 0.6)):
        ModelVersion.objects.create(
            project=project, backend="embedding_head", artifact_dir="/nowhere",
            labels=["HS", "TR", "AG"],
            metrics={"f1_macro": f1, "per_class": {"HS": {"f1": f1 + 0.1}, "TR": {"f1": f1 - 0.1},
                                                   "AG": {"f1": f1}}},
            data_snapshot={"counts": {"examples": n, "train": n - 10, "validation": 10}})
    page = login(owner)
    page.goto(f"{live_server.url}/models/projects/{project.pk}/versions/")
    page.wait_for_selector("svg.learning-curve")
    assert page.locator("svg.learning-curve polyline").count() == 4
    shot(page, "versions-learning-curve")
