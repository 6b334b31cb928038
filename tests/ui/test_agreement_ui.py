"""Chromium walks for issue 13: Enter after a mouse click on a span label submits, the agreement
page, adjudicating a disagreement by keyboard, binary colours and thresholds beside scores."""
from __future__ import annotations

import pytest

from annotator.models import Annotation, Membership, Role
from models_zoo.models import ModelVersion, Prediction
from models_zoo.services.datasets import gold_examples
from tests.api.factories import annotate
from tests.conftest import make_project, make_user
from tests.ui.test_annotate_ui import _drag, annotate_url, showing
from tests.web.helpers import add_examples

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def test_enter_after_clicking_a_span_label_with_the_mouse_submits(
    login, live_server, owner, annotator_user, shot
):
    p = make_project(owner, "spans", labels=("LOC", "PER"))
    Membership.objects.create(user=annotator_user, project=p, role=Role.ANNOTATOR)
    text = "floods in New York City again"
    one, two = add_examples(p, [text, "next one"])
    page = login(annotator_user)
    page.goto(annotate_url(live_server, p))
    showing(page, one)
    _drag(page, "New", "City")
    page.locator('#label-choices button[data-label-index="0"]').click()  # LOC, by mouse
    shot(page, "label-clicked")
    page.keyboard.press("Enter")
    showing(page, two)
    assert "Select words first" not in page.inner_text("#client-msg")
    assert Annotation.objects.get(example=one, user=annotator_user).spans == [
        {"start": text.index("New"), "end": text.index("City") + 4, "label": "LOC"}
    ]


def test_binary_history_colours_and_threshold_beside_the_score(
    login, live_server, owner, annotator_user, shot
):
    p = make_project(owner, "binary", labels=("VIOLENCE",))
    Membership.objects.create(user=annotator_user, project=p, role=Role.ANNOTATOR)
    one, two, three = add_examples(p, ["riot downtown", "nice weather", "a scored one"])
    version = ModelVersion.objects.create(
        project=p, backend="embedding_head", artifact_dir="/nonexistent", labels=["VIOLENCE"],
        thresholds={"VIOLENCE": 0.35}, is_current=True,
    )
    for e in (one, two, three):
        Prediction.objects.create(
            example=e, model_version=version, labels=["VIOLENCE"], scores={"VIOLENCE": 0.4}
        )
    page = login(annotator_user)
    page.goto(annotate_url(live_server, p))
    showing(page, one)
    assert "model says yes (0.40, threshold 0.35)" in page.inner_text("#model-says")
    page.keyboard.press("a")
    showing(page, two)
    page.keyboard.press("x")
    showing(page, three)
    shot(page, "binary-history")
    assert page.locator("#history .chip.accepted").count() == 1
    assert page.locator("#history .chip.rejected").count() == 1
    green = page.locator("#history .chip.accepted").evaluate("e => getComputedStyle(e).borderColor")
    red = page.locator("#history .chip.rejected").evaluate("e => getComputedStyle(e).borderColor")
    accept_button = page.locator("button.accept").evaluate("e => getComputedStyle(e).borderColor")
    reject_button = page.locator("button.reject").evaluate("e => getComputedStyle(e).borderColor")
    assert green == accept_button and red == reject_button and green != red


def test_an_admin_reads_agreement_and_adjudicates_a_disagreement(
    login, live_server, owner, annotator_user, shot
):
    p = make_project(owner, "multilabel")
    second = make_user("second")
    for user in (annotator_user, second):
        Membership.objects.create(user=user, project=p, role=Role.ANNOTATOR)
    agree, differ, other = add_examples(p, ["both say HS", "they differ on this", "and this"])
    annotate(agree, annotator_user, ["HS"])
    annotate(agree, second, ["HS"])
    annotate(differ, annotator_user, ["HS"])
    annotate(differ, second, ["TR"])
    annotate(other, annotator_user, ["AG"])
    annotate(other, second, [])
    page = login(owner)
    page.goto(f"{live_server.url}/projects/{p.pk}/")
    page.click("#agreement-link")
    page.wait_for_selector("#label-table")
    shot(page, "agreement")
    assert page.locator("#label-table tr[data-label=HS]").count() == 1
    assert "annotator · second" in page.inner_text("#label-table")
    assert "Adjudicate disagreements (2)" in page.inner_text("#adjudicate-link")
    page.click("#adjudicate-link")
    page.wait_for_selector("#votes")
    assert "they differ on this" in page.inner_text("#example-text")
    shot(page, "adjudicate")
    # Keyboard: "2" takes the second annotator's vote (TR) and goes on to the next one.
    page.keyboard.press("2")
    page.wait_for_selector("#example-text:has-text('and this')")
    # Edit the final decision by label shortcut (AG is "e" in make_project) and Enter.
    page.keyboard.press("e")
    page.keyboard.press("w")  # TR on
    shot(page, "adjudicate-edited")
    page.keyboard.press("Enter")
    page.wait_for_selector("#no-disagreements")
    shot(page, "adjudicate-done")
    final = {
        a.example_id: a.labels for a in Annotation.objects.filter(source="adjudicated")
    }
    assert final == {differ.pk: ["TR"], other.pk: ["TR", "AG"]}
    assert Annotation.objects.get(source="adjudicated", example=differ).user == owner
    gold = {g.example_id: g.labels for g in gold_examples(p)}
    assert gold[differ.pk] == ["TR"] and gold[other.pk] == ["AG", "TR"]
