"""The data browser in a real Chromium: find an example by search and filter, select it by
keyboard, send it to the front of the queue, and see the annotate page serve it next."""
from __future__ import annotations

import pytest

from annotator.models import Annotation, Example
from models_zoo.models import ModelVersion, Prediction

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]

TEXTS = [("storm floods the old town", "en"), ("el zorro corre por el campo", "es"),
         ("the zorro movie was great", "en"), ("cats on a sofa", "en"),
         ("lluvia en la ciudad", "es")]


def test_an_admin_finds_selects_and_sends_an_example_to_the_front(
    login, live_server, project, owner, annotator_user, shot
):
    made = [Example.objects.create(project=project, text=t, content_hash=f"h{i}", meta={"lang": lang})
            for i, (t, lang) in enumerate(TEXTS)]
    Annotation.objects.create(example=made[2], user=owner, labels=["TR"])
    mv = ModelVersion.objects.create(project=project, backend="embedding_head", artifact_dir="/x",
                                     labels=["HS", "TR", "AG"], thresholds={"HS": 0.4, "TR": 0.5},
                                     is_current=True)
    for i, e in enumerate(made):
        Prediction.objects.create(example=e, model_version=mv, scores={"HS": 0.1 + 0.2 * i, "TR": 0.3},
                                  labels=["HS"] if 0.1 + 0.2 * i >= 0.4 else [])
    target = made[1]
    # Without the bulk action the random queue would hand it out last.
    Example.objects.filter(pk=target.pk).update(queue_key=0.0)
    page = login(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.click("#browse-link")
    assert page.locator("#browse-table tbody tr").count() == 5
    shot(page, "all")

    page.fill("#browse-filter input[name=q]", "zorro")
    page.fill("#browse-filter input[name=meta]", "lang=es")
    page.click("#browse-apply")
    page.wait_for_url("**q=zorro**")
    assert page.locator("#browse-table tbody tr").count() == 1
    assert "el zorro corre" in page.inner_text("#browse-table")
    assert "1 matching" in page.inner_text("#browse-count")

    page.keyboard.press("j")
    page.keyboard.press("x")
    assert page.locator(".row-check").first.is_checked()
    page.select_option("#bulk-action", "front")
    shot(page, "filtered")
    page.click("#bulk-apply")
    page.wait_for_selector(".messages")
    assert "Sent 1 example to the front of the queue" in page.inner_text(".messages")

    # A bad filter value is named at the top, not a 500.
    page.goto(f"{live_server.url}/projects/{project.pk}/data/?score_min=lots")
    assert "score_min" in page.inner_text("#browse-error")
    shot(page, "error")

    page.goto(f"{live_server.url}/projects/{project.pk}/examples/{target.pk}/")
    assert "el zorro corre" in page.inner_text("main")
    assert "(t 0.40)" in page.inner_text("#predictions")
    assert "lang" in page.inner_text("#example-meta")
    shot(page, "example")

    annotator = login(annotator_user)
    annotator.goto(f"{live_server.url}/projects/{project.pk}/annotate/")
    assert "el zorro corre por el campo" in annotator.inner_text("main")
    shot(annotator, "served-next")
