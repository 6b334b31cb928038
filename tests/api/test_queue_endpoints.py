"""GET /projects/{id}/queue-strategies, POST /projects/{id}/queue/next, PATCH queue settings."""
from __future__ import annotations

import pytest

from annotator.models import Assignment
from models_zoo.services.queue_scores import rescore_project
from tests.annotator.test_al_queue import version_with_scores
from tests.api.factories import make_example

pytestmark = pytest.mark.django_db


def test_it_lists_the_registered_strategies_with_descriptions(annotator_api, project):
    body = annotator_api.get(f"/api/v1/projects/{project.pk}/queue-strategies").json()
    names = [s["name"] for s in body["strategies"]]
    for name in ("random", "sequential", "least_confidence", "margin", "entropy",
                 "likely_positive", "proposals", "margin_diverse"):
        assert name in names
    assert all(s["description"] for s in body["strategies"])
    assert body["current"] == "random"


def test_outsiders_do_not_see_the_strategies(outsider_api, project):
    assert outsider_api.get(f"/api/v1/projects/{project.pk}/queue-strategies").status_code == 404


def test_patch_validates_the_strategy_and_the_queue_label(owner_api, project):
    url = f"/api/v1/projects/{project.pk}/"
    bad = owner_api.patch(url, {"queue_strategy": "smartest"}, format="json")
    assert bad.status_code == 400 and "queue_strategy" in bad.json()
    assert "margin_diverse" in str(bad.json())
    bad = owner_api.patch(url, {"queue_strategy": "likely_positive"}, format="json")
    assert bad.status_code == 400 and "queue_label" in bad.json()
    bad = owner_api.patch(url, {"queue_label": "NOPE"}, format="json")
    assert bad.status_code == 400 and "queue_label" in bad.json()
    ok = owner_api.patch(url, {"queue_strategy": "likely_positive", "queue_label": "HS"},
                         format="json")
    assert ok.status_code == 200, ok.content
    assert ok.json()["queue_strategy"] == "likely_positive" and ok.json()["queue_label"] == "HS"


def test_queue_next_hands_the_most_unsure_example_with_reason_and_score(annotator_api, project,
                                                                        annotator_user):
    examples = [make_example(project, f"tweet {i}") for i in range(3)]
    version_with_scores(project, [(examples[0], [0.9, 0.1, 0.1]), (examples[1], [0.5, 0.1, 0.1]),
                                  (examples[2], [0.7, 0.2, 0.1])], labels=("HS", "TR", "AG"))
    project.queue_strategy = "margin_min"
    project.save()
    rescore_project(project.pk)
    url = f"/api/v1/projects/{project.pk}/queue/next"
    got = annotator_api.post(url)
    assert got.status_code == 200, got.content
    body = got.json()
    assert body["id"] == examples[1].pk and body["text"] == "tweet 1"
    assert body["score"] == pytest.approx(1.0) and body["reason"] == "model unsure: 1.00"
    # Same claim as the browser: it is now assigned, and asking again resumes it.
    assert Assignment.objects.filter(example=examples[1], user=annotator_user).exists()
    assert annotator_api.post(url).json()["id"] == examples[1].pk


def test_queue_next_is_204_when_nothing_is_left_and_403_for_viewers(annotator_api, viewer_api,
                                                                     project):
    url = f"/api/v1/projects/{project.pk}/queue/next"
    assert annotator_api.post(url).status_code == 204
    assert viewer_api.post(url).status_code == 403
