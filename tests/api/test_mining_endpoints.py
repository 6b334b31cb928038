"""POST /projects/{id}/mining, GET /mining/{id}, GET /mining/{id}/proposals (admins only)."""
from __future__ import annotations

import pytest

from annotator.models import MiningRun
from models_zoo.mining.service import mine_run
from tests.annotator.mining_store import cosine_project


@pytest.fixture
def mined(project):
    return cosine_project(project)


def url(project) -> str:
    return f"/api/v1/projects/{project.pk}/mining"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "label", "required"),
        ({"label": "NOPE"}, "label", "unknown label"),
        ({"label": "TR"}, "label", "no positives"),
        ({"label": "HS", "band": 4}, "band", "1, 2 or 3"),
        ({"label": "HS", "band": 0}, "band", "1, 2 or 3"),
        ({"label": "HS", "band": "two"}, "band", "integer"),
        ({"label": "HS", "tails": "lower"}, "tails", "upper, both"),
        ({"label": "HS", "band": 2, "n": 3}, "n", "band 2 holds 2"),
        ({"label": "HS", "n": 0}, "n", "at least 1"),
        ({"label": "HS", "p": 1}, "p", "at least 2"),
        ({"label": "HS", "mode": "train"}, "mode", "propose, negatives"),
        ({"label": "HS", "dedupe_threshold": 1.5}, "dedupe_threshold", "(0, 1]"),
        ({"label": "HS", "seed": -1}, "seed", "at least 0"),
    ],
)
def test_bad_parameters_get_400_naming_the_field(owner_api, project, mined, body, field, words):
    response = owner_api.post(url(project), body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert words in response.json()[field][0]
    assert not MiningRun.objects.exists()


def test_a_valid_request_is_accepted_and_the_run_reads_back(
    owner_api, project, mined, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_api.post(url(project), {"label": "HS", "band": 1, "seed": 3}, format="json")
    assert response.status_code == 202
    run_id = response.json()["mining_run"]
    assert len(callbacks) == 1  # the task is enqueued on commit
    queued = owner_api.get(f"/api/v1/mining/{run_id}").json()
    assert queued["state"] == "queued" and queued["n"] is None and queued["proposed"] == 0
    mine_run(MiningRun.objects.select_related("project").get(pk=run_id))
    body = owner_api.get(f"/api/v1/mining/{run_id}").json()
    expected = {"id", "state", "label", "band", "tails", "n", "p", "seed", "mu", "sigma",
                "histogram", "proposed", "elapsed_s"}
    assert expected <= set(body)
    assert (body["state"], body["label"], body["band"], body["tails"], body["n"], body["p"],
            body["seed"], body["proposed"]) == ("succeeded", "HS", 1, "upper", 3, 3000, 3, 3)
    assert body["mu"] == pytest.approx(0.457) and body["sigma"] == pytest.approx(0.29873, abs=1e-5)
    assert sum(body["histogram"]["counts"]) == 10
    page = owner_api.get(f"/api/v1/mining/{run_id}/proposals", {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    first = page["results"][0]
    assert set(first) >= {"example", "text", "s_an", "status"}
    # Highest S_an first: 0.7, then 0.6.
    assert first["s_an"] == pytest.approx(0.7, abs=1e-5) and first["status"] == "pending"
    assert first["text"] == "pool tweet at 0.7"


def test_annotators_and_viewers_get_403_and_outsiders_404(
    annotator_api, viewer_api, outsider_api, owner, project, mined
):
    from models_zoo.mining.service import create_mining_run

    run = create_mining_run(project, owner, {"label": "HS", "band": 1}, enqueue_job=False)
    for client, code in ((annotator_api, 403), (viewer_api, 403), (outsider_api, 404)):
        assert client.post(url(project), {"label": "HS"}, format="json").status_code == code
        assert client.get(f"/api/v1/mining/{run.pk}").status_code == code
        assert client.get(f"/api/v1/mining/{run.pk}/proposals").status_code == code


def test_an_unknown_run_is_404(owner_api, db):
    assert owner_api.get("/api/v1/mining/999999").status_code == 404
