"""The queue settings page and the annotate page's "why this one"."""
from __future__ import annotations

import pytest

from models_zoo.services.queue_scores import rescore_project
from tests.annotator.test_al_queue import version_with_scores
from tests.api.factories import make_example

pytestmark = pytest.mark.django_db


def test_admins_change_the_strategy_and_annotators_only_read_it(client, project, owner,
                                                                annotator_user, outsider):
    client.force_login(owner)
    page = client.get(f"/projects/{project.pk}/queue/").content.decode()
    assert 'name="queue_strategy"' in page and "margin_diverse" in page
    assert 'id="queue-link"' in client.get(f"/projects/{project.pk}/").content.decode()
    response = client.post(f"/projects/{project.pk}/queue/",
                           {"queue_strategy": "entropy", "queue_label": ""})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.queue_strategy == "entropy"
    client.force_login(annotator_user)
    page = client.get(f"/projects/{project.pk}/queue/").content.decode()
    assert 'name="queue_strategy"' not in page and "entropy <span" in page
    assert client.post(f"/projects/{project.pk}/queue/",
                       {"queue_strategy": "random"}).status_code == 403
    client.force_login(outsider)
    assert client.get(f"/projects/{project.pk}/queue/").status_code == 404


def test_a_bad_choice_is_shown_with_the_field_named(client, project, owner):
    client.force_login(owner)
    response = client.post(f"/projects/{project.pk}/queue/",
                           {"queue_strategy": "likely_positive", "queue_label": ""})
    assert response.status_code == 400
    assert "queue_label: the likely_positive strategy needs a queue_label" in response.content.decode()
    project.refresh_from_db()
    assert project.queue_strategy == "random"


def test_the_annotate_page_says_why_the_example_was_picked(client, project, annotator_user):
    examples = [make_example(project, f"tweet {i}") for i in range(2)]
    version_with_scores(project, [(examples[0], [0.1, 0.2, 0.91]), (examples[1], [0.2, 0.1, 0.3])],
                        labels=("HS", "TR", "AG"))
    project.queue_strategy, project.queue_label = "likely_positive", "AG"
    project.save()
    rescore_project(project.pk)
    client.force_login(annotator_user)
    page = client.get(f"/projects/{project.pk}/annotate/").content.decode()
    assert "tweet 0" in page
    assert "Why this one: likely positive for AG: 0.91" in page


def test_a_cold_start_description_the_database_cannot_store_is_a_400_keeping_the_text(client, project, owner):
    client.force_login(owner)
    response = client.post(f"/projects/{project.pk}/queue/", {
        "queue_strategy": "query", "queue_label": "", "queue_then": "margin",
        "queue_query": "floods\nbad \x00 text", "transfer_model_version": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "queue_query: description 2 contains a NUL character (U+0000) at character 5" in page
    assert "floods" in page  # the posted descriptions are shown again
    project.refresh_from_db()
    assert (project.queue_strategy, project.queue_query) == ("random", [])
    ok = client.post(f"/projects/{project.pk}/queue/", {
        "queue_strategy": "query", "queue_label": "", "queue_then": "margin",
        "queue_query": "floods\r\n\r\npeople in need", "transfer_model_version": ""})
    assert ok.status_code == 302
    project.refresh_from_db()
    assert (project.queue_strategy, project.queue_query) == ("query", ["floods", "people in need"])
