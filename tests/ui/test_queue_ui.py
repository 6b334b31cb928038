"""The queue settings page and the annotate page's reason in a real Chromium: an admin picks
likely_positive for AG, the annotator is handed the likeliest AG tweet and told why."""
from __future__ import annotations

import pytest

from models_zoo.services.queue_scores import rescore_project
from tests.annotator.test_al_queue import version_with_scores
from tests.api.factories import make_example

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def test_an_admin_switches_to_likely_positive_and_the_annotator_sees_why(
    login, live_server, project, owner, annotator_user, shot
):
    examples = [make_example(project, f"tweet about things {i}") for i in range(3)]
    version_with_scores(project, [(examples[0], [0.1, 0.2, 0.30]), (examples[1], [0.2, 0.1, 0.87]),
                                  (examples[2], [0.9, 0.1, 0.05])], labels=("HS", "TR", "AG"))
    admin = login(owner)
    admin.goto(f"{live_server.url}/projects/{project.pk}/")
    admin.click("#queue-link")
    admin.wait_for_selector("#queue-form")
    admin.select_option("select[name=queue_strategy]", "likely_positive")
    admin.click("#queue-form button[type=submit]")
    admin.wait_for_selector("#queue-error")
    assert "needs a queue_label" in admin.locator("#queue-error").inner_text()
    admin.select_option("select[name=queue_strategy]", "likely_positive")
    admin.select_option("select[name=queue_label]", "AG")
    admin.click("#queue-form button[type=submit]")
    admin.wait_for_selector("#strategies")
    project.refresh_from_db()
    assert (project.queue_strategy, project.queue_label) == ("likely_positive", "AG")
    shot(admin, "queue-settings")
    # No worker here: the rescore the change enqueued, run as the worker would.
    rescore_project(project.pk)
    page = login(annotator_user)
    page.goto(f"{live_server.url}/projects/{project.pk}/annotate/")
    page.wait_for_selector("#why-picked")
    assert page.locator("#why-picked").inner_text() == "Why this one: likely positive for AG: 0.87"
    assert "tweet about things 1" in page.content()
    shot(page, "annotate-why")


def test_an_admin_sets_a_cold_start_description_and_a_starting_detector(
    login, live_server, project, owner, annotator_user, shot
):
    from annotator.models import Membership, Role
    from models_zoo.models import ModelVersion
    from tests.conftest import make_project, make_user

    make_example(project, "a tweet")
    other_owner = make_user("previous-owner")
    previous = make_project(other_owner, labels=("AG", "HS", "TR"))
    Membership.objects.create(user=owner, project=previous, role=Role.VIEWER)
    detector = ModelVersion.objects.create(project=previous, backend="embedding_head", config={},
                                           artifact_dir="", labels=["AG", "HS", "TR"])
    elsewhere = make_project(other_owner, labels=("AG", "HS", "TR"))  # not readable by owner
    ModelVersion.objects.create(project=elsewhere, backend="embedding_head", config={},
                                artifact_dir="", labels=["AG", "HS", "TR"])
    admin = login(owner)
    admin.goto(f"{live_server.url}/projects/{project.pk}/queue/")
    admin.wait_for_selector("#cold-start")
    options = admin.locator("select[name=transfer_model_version] option")
    assert options.count() == 2  # none, and the readable project's version only
    admin.select_option("select[name=queue_strategy]", "query")
    admin.fill("textarea[name=queue_query]", "Tweets about flooding\nPeople asking for help")
    admin.select_option("select[name=queue_then]", "margin_diverse")
    admin.select_option("select[name=transfer_model_version]", str(detector.pk))
    admin.click("#queue-form button[type=submit]")
    admin.wait_for_selector("#queue-state")
    project.refresh_from_db()
    assert project.queue_query == ["Tweets about flooding", "People asking for help"]
    assert (project.queue_strategy, project.queue_then) == ("query", "margin_diverse")
    assert project.transfer_model_version_id == detector.pk
    state = admin.locator("#queue-state").inner_text()
    assert "closest to your description" in state and f"version {detector.pk} of" in state
    shot(admin, "queue-cold-start")
    # The annotators are told where their suggestions and order come from.
    page = login(annotator_user)
    page.goto(f"{live_server.url}/projects/{project.pk}/annotate/")
    page.wait_for_selector("#transfer-note")
    assert f"version {detector.pk} of" in page.locator("#transfer-note").inner_text()
    shot(page, "annotate-transfer")
    # A description is required by the query strategy: emptied, the page names the field.
    admin.fill("textarea[name=queue_query]", "")
    admin.click("#queue-form button[type=submit]")
    admin.wait_for_selector("#queue-error")
    assert admin.locator("#queue-error").inner_text().startswith("queue_query:")
