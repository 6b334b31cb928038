"""Server-Timing on POST /predict (model, serialize, db, app) and the /healthz liveness view."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.models_zoo.prediction_fixtures import make_version, prediction_artifacts

pytestmark = pytest.mark.django_db
ENTRY = re.compile(r'^(?P<name>[a-z]+);dur=(?P<dur>[0-9.]+)(?:;desc="(?P<desc>[^"]*)")?$')


@pytest.fixture(scope="session")
def hateval_artifacts():
    return prediction_artifacts()


def parse(header: str) -> dict[str, tuple[float, str | None]]:
    out: dict[str, tuple[float, str | None]] = {}
    for part in header.split(", "):
        match = ENTRY.match(part)
        assert match, f"malformed Server-Timing entry {part!r} in {header!r}"
        out[match["name"]] = (float(match["dur"]), match["desc"])
    return out


def test_predict_reports_model_serialisation_database_and_app_time(owner_api, project,
                                                                  hateval_artifacts):
    make_version(project, hateval_artifacts["v1"], current=True)
    url = f"/api/v1/projects/{project.pk}/predict"
    owner_api.post(url, {"texts": ["warm the cache"]}, format="json")  # loads the model

    response = owner_api.post(url, {"texts": ["Flood on 5th street", "nice day"]}, format="json")

    assert response.status_code == 200, response.content
    timing = parse(response["Server-Timing"])
    assert list(timing) == ["model", "serialize", "db", "app"]
    model, serialize, db, app = (timing[k][0] for k in ("model", "serialize", "db", "app"))
    assert model > 0 and serialize > 0 and app > 0
    # The parts are inside the whole (rounding to 0.01 ms aside).
    assert model + serialize + db <= app + 0.05
    queries = int(timing["db"][1].split()[0])
    assert queries == 2  # the token, then the project with the role and current version
    assert response.json()["predictions"][0]["scores"]


def test_other_responses_carry_no_server_timing(owner_api, project):
    # No current model: 409 without timing; ordinary endpoints are left alone.
    response = owner_api.post(f"/api/v1/projects/{project.pk}/predict", {"texts": ["x"]},
                              format="json")
    assert response.status_code == 409
    assert not response.has_header("Server-Timing")
    assert not owner_api.get(f"/api/v1/projects/{project.pk}").has_header("Server-Timing")


def test_healthz_answers_without_authentication():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert not response.has_header("Server-Timing")
