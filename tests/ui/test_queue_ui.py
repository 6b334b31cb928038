"""The queue settings page and the annotate page's reason in a real Chromium: an admin picks
likely_positive for AG, the annotator is handed the likeliest AG tweet and told why."""
from __future__ import annotations

import pytest

from annotator.services.queue_scores import rescore_project
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
