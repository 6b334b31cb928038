"""POST /projects/{id}/simulations, GET /simulations/{id} (JSON and CSV), the pages."""
from __future__ import annotations

import numpy as np
import pytest

from annotator.models import Annotation, Simulation
from annotator.services.simulations import run_simulation
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
    assert lines[0] == "strategy,labels,f1_mean,f1_sd"
    assert len(lines) == 1 + 2 * 4 + 1 and lines[-1].startswith("full,160,")


@pytest.mark.parametrize(("change", "field"), [
    ({"strategies": ["proposals"]}, "strategies"),
    ({"strategies": []}, "strategies"),
    ({"n0": 0}, "n0"),
    ({"rounds": "many"}, "rounds"),
    ({"test_fraction": 1.5}, "test_fraction"),
    ({"strategies": ["likely_positive"]}, "label"),
    ({"label": "XX"}, "label"),
    ({"speed": 3}, "speed"),
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
