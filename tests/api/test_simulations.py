"""POST /projects/{id}/simulations, GET /simulations/{id} (JSON and CSV), the pages."""
from __future__ import annotations

import numpy as np
import pytest

from annotator.models import Annotation, Simulation
from models_zoo.services.simulations import run_simulation
from tests.annotator.mining_store import add_example, store_vectors

pytestmark = pytest.mark.django_db


def labelled_store(project, n=160):
    """n imported examples: HS when the first coordinate is positive (separable), in a store."""
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(n, 6))
    examples = []
    for i in range(n):
        e = add_example(project, f"labelled tweet {i}")
        Annotation.objects.create(example=e, user=None, source="import",
                                  labels=["HS"] if vectors[i, 0] > 0.5 else [])
        examples.append(e)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store_vectors(project, examples, vectors)
    return examples


BODY = {"strategies": ["random", "margin"], "n0": 20, "batch": 10, "rounds": 3, "seeds": 2,
        "test_fraction": 0.25}


def test_it_starts_a_simulation_and_answers_the_curves(owner_api, project,
                                                       django_capture_on_commit_callbacks):
    labelled_store(project)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = owner_api.post(f"/api/v1/projects/{project.pk}/simulations", BODY, format="json")
    assert started.status_code == 202, started.content
    assert len(callbacks) == 1  # the Celery job is enqueued once the row is committed
    sim_id = started.json()["simulation"]
    assert owner_api.get(f"/api/v1/simulations/{sim_id}").json()["state"] == "queued"
    run_simulation(sim_id)  # the job body, as the worker runs it
    body = owner_api.get(f"/api/v1/simulations/{sim_id}").json()
    assert body["state"] == "succeeded" and body["progress"] == 1.0
    assert set(body["curves"]) == {"random", "margin"}
    assert [p["labels"] for p in body["curves"]["margin"]] == [20, 30, 40, 50]
    assert 0.5 < body["full_f1"] <= 1.0
    assert set(body["aulc"]) == {"random", "margin"} and set(body["labels_to_95"]) == {"random", "margin"}
    csv_text = owner_api.get(f"/api/v1/simulations/{sim_id}?format=csv")
    assert csv_text.status_code == 200 and csv_text["Content-Type"].startswith("text/csv")
    lines = csv_text.content.decode().splitlines()
    assert lines[0] == "strategy,labels,f1_mean,f1_sd,start"
    assert len(lines) == 1 + 2 * 4 + 1 and lines[-1].startswith("full,160,")
    assert lines[1].endswith(",random")
    assert body["start"] == "random" and body["labels_to_target"] == {"random": None, "margin": None}
    assert body["recipe"]["config"]["threshold_objective"] == "f1_macro"


@pytest.mark.parametrize(("change", "field"), [
    ({"strategies": ["proposals"]}, "strategies"),
    ({"strategies": []}, "strategies"),
    ({"n0": 0}, "n0"),
    ({"rounds": "many"}, "rounds"),
    ({"test_fraction": 1.5}, "test_fraction"),
    ({"strategies": ["likely_positive"]}, "label"),
    ({"label": "XX"}, "label"),
    ({"speed": 3}, "speed"),
    ({"prevalence": 1.5}, "prevalence"),
    ({"prevalence": 0}, "prevalence"),
    ({"prevalence": "rare"}, "prevalence"),
    ({"target_f1": 0}, "target_f1"),
    ({"target_f1": 1.2}, "target_f1"),
    ({"start": "bogus"}, "start"),
    ({"start": {"query": ""}}, "start"),
    ({"start": {"query": ["ok", 3]}}, "start"),
    ({"start": {"keywords": []}}, "start"),
    ({"start": {"model_version": 999999}}, "start"),
    ({"start": {"model_version": "seven"}}, "start"),
    ({"start": {"psychic": 1}}, "start"),
    ({"start": ["random"] * 5}, "start"),
    ({"strategies": ["margin_mixed"]}, "label"),
])
def test_bad_parameters_are_a_400_naming_the_field(owner_api, project, change, field):
    response = owner_api.post(f"/api/v1/projects/{project.pk}/simulations", {**BODY, **change},
                              format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not Simulation.objects.exists()


def test_only_admins_simulate(annotator_api, outsider_api, project):
    assert annotator_api.post(f"/api/v1/projects/{project.pk}/simulations", BODY,
                              format="json").status_code == 403
    assert outsider_api.post(f"/api/v1/projects/{project.pk}/simulations", BODY,
                             format="json").status_code == 404


def test_without_vectors_the_job_fails_saying_why(owner, project):
    sim = Simulation.objects.create(project=project, created_by=owner, params={**BODY, "label": None})
    done = run_simulation(sim.pk)
    assert done.state == "failed" and "embed it first" in done.error


def test_the_pages_show_the_form_errors_and_the_result(client, owner, project):
    labelled_store(project)
    client.force_login(owner)
    bad = client.post(f"/projects/{project.pk}/simulations/",
                      {"strategies": ["margin"], "n0": "x", "batch": 10, "rounds": 2, "seeds": 1,
                       "test_fraction": 0.25})
    assert bad.status_code == 400 and "n0: an integer from 1" in bad.content.decode()
    ok = client.post(f"/projects/{project.pk}/simulations/",
                     {"strategies": ["margin", "entropy"], "n0": 20, "batch": 10, "rounds": 2,
                      "seeds": 1, "test_fraction": 0.25})
    assert ok.status_code == 302
    sim = Simulation.objects.get()
    run_simulation(sim.pk)
    page = client.get(ok["Location"]).content.decode()
    assert '<svg class="simulation-curve"' in page and 'data-strategy="entropy"' in page
    assert 'data-series="margin"' in page


def rare_store(project, n=400, share=0.25):
    """n imported examples of a multi-label project, HS on a quarter, separable on axis 0."""
    rng = np.random.default_rng(3)
    hs = rng.uniform(size=n) < share
    vectors = rng.normal(size=(n, 6)) * 0.6
    vectors[:, 0] += np.where(hs, 1.5, -1.5)
    examples = []
    for i in range(n):
        e = add_example(project, f"{'flood' if hs[i] and i % 2 else 'tweet'} number {i}")
        Annotation.objects.create(example=e, user=None, source="import",
                                  labels=["HS"] if hs[i] else [])
        examples.append(e)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store_vectors(project, examples, vectors)
    return examples


def test_a_rare_stream_with_keyword_and_random_starts_and_a_target(owner_api, project):
    rare_store(project)
    body = {"strategies": ["random", "likely_positive"], "n0": 20, "batch": 20, "rounds": 3,
            "seeds": 2, "test_fraction": 0.25, "label": "HS", "prevalence": 0.05,
            "start": ["random", {"keywords": ["flood"]}], "target_f1": 0.5}
    started = owner_api.post(f"/api/v1/projects/{project.pk}/simulations", body, format="json")
    assert started.status_code == 202, started.content
    sim = run_simulation(started.json()["simulation"])
    assert sim.state == "succeeded", sim.error
    got = owner_api.get(f"/api/v1/simulations/{sim.pk}").json()
    assert got["start"] == ["random", {"keywords": ["flood"]}] and got["prevalence"] == 0.05
    sizes = got["sizes"]
    assert sizes["pool_positives"]["mean"] / sizes["pool"]["mean"] == pytest.approx(0.05, abs=0.005)
    keywords = got["starts"][1]
    assert keywords["kind"] == "keywords"
    # Keyword hits are HS tweets here: the keyword start's first 20 hold every HS hit
    # of the pool (about half of its positives), the random start's hardly any.
    assert keywords["start_positives"]["mean"] > got["starts"][0]["start_positives"]["mean"]
    assert set(got["labels_to_target"]) == {"random", "likely_positive"}
    figures = keywords["strategies"]["likely_positive"]["per_label"]["HS"]
    assert set(figures) >= {"f1", "aulc", "labels_to_95", "labels_to_target", "curve"}
    assert figures["f1"]["seeds"] == 2
    csv_rows = owner_api.get(f"/api/v1/simulations/{sim.pk}?format=csv").content.decode().splitlines()
    assert any(row.endswith(",keywords") for row in csv_rows)


def version_row(project, labels):
    """A ModelVersion row (no artifact needed: these checks read its labels and project)."""
    from models_zoo.models import ModelVersion

    return ModelVersion.objects.create(project=project, backend="embedding_head", config={},
                                       artifact_dir="", labels=list(labels))


def test_another_projects_model_start_needs_a_readable_project_with_the_same_labels(
        owner, owner_api, project, outsider):
    from tests.conftest import make_project

    mine = make_project(owner, task_type="multilabel", labels=("AG", "HS", "TR"))
    other_labels = make_project(owner, task_type="multilabel", labels=("X",))
    foreign = make_project(outsider, task_type="multilabel", labels=("HS", "TR", "AG"))
    ok = version_row(mine, ("AG", "HS", "TR"))  # the same names in another order match
    wrong = version_row(other_labels, ("X",))
    hidden = version_row(foreign, ("HS", "TR", "AG"))
    url = f"/api/v1/projects/{project.pk}/simulations"
    bad = owner_api.post(url, {**BODY, "label": "HS", "start": {"model_version": wrong.pk}}, format="json")
    assert bad.status_code == 400 and "label names must match" in bad.json()["start"][0]
    unseen = owner_api.post(url, {**BODY, "label": "HS", "start": {"model_version": hidden.pk}}, format="json")
    assert unseen.status_code == 400 and "project you can read" in unseen.json()["start"][0]
    own = version_row(project, ("HS", "TR", "AG"))
    itself = owner_api.post(url, {**BODY, "label": "HS", "start": {"model_version": own.pk}}, format="json")
    assert itself.status_code == 400 and "another project" in itself.json()["start"][0]
    good = owner_api.post(url, {**BODY, "label": "HS", "start": {"model_version": ok.pk}}, format="json")
    assert good.status_code == 202, good.content
    assert Simulation.objects.get(pk=good.json()["simulation"]).params["start"] == {"model_version": ok.pk}
