"""The annotate page in a real Chromium: keys, mouse spans, undo, history edits, no-JS submit.

Every test checks the database afterwards and saves screenshots to test-artifacts/ui/.
"""
from __future__ import annotations

import pytest

from annotator.models import Annotation, Assignment, AssignmentStatus, Membership, Role
from tests.conftest import make_project
from tests.web.helpers import add_examples

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def annotate_url(live_server, project):
    return f"{live_server.url}/projects/{project.pk}/annotate/"


def showing(page, example):
    page.wait_for_selector(f'#workspace[data-example="{example.pk}"]')


def test_labelling_a_multilabel_tweet_with_keys_only(login, live_server, project, annotator_user, shot):
    project.guidelines = "HS: hate speech against a group.\nTR: targeted at one person.\nAG: aggressive."
    project.save()
    evil, plain = add_examples(
        project,
        ['<script>alert("pwned")</script> <b>not bold</b> they should all go back',
         "second tweet"],
        created_at="2019-03-01", lang="en", retweet_count=7, event="hateval",
    )
    page = login(annotator_user)
    shot(page, "project-list")
    page.goto(annotate_url(live_server, project))
    showing(page, evil)
    assert '<script>alert("pwned")</script>' in page.inner_text("#example-text")
    page.keyboard.press("h")
    assert page.locator("#guidelines").get_attribute("open") is not None
    shot(page, "guidelines")
    page.keyboard.press("h")
    page.keyboard.press("1")  # HS by number
    page.keyboard.press("e")  # AG by its own shortcut
    page.keyboard.press("2")  # TR on ...
    page.keyboard.press("w")  # ... and off again by its shortcut
    shot(page, "multilabel-chosen")
    page.keyboard.press("Enter")
    showing(page, plain)
    shot(page, "multilabel-next")
    a = Annotation.objects.get(example=evil, user=annotator_user)
    assert a.labels == ["HS", "AG"] and a.source == "human"
    assert page.dialogs == []
    assert "HS" in page.inner_text("#history")


def test_accept_reject_and_skip_in_binary(login, live_server, owner, annotator_user, shot):
    p = make_project(owner, "binary", labels=("VIOLENCE",))
    Membership.objects.create(user=annotator_user, project=p, role=Role.ANNOTATOR)
    one, two, three, four = add_examples(p, ["riot downtown", "nice weather", "maybe", "last"])
    page = login(annotator_user)
    page.goto(annotate_url(live_server, p))
    showing(page, one)
    shot(page, "binary")
    page.keyboard.press("a")
    showing(page, two)
    page.keyboard.press("x")
    showing(page, three)
    page.keyboard.press(" ")
    showing(page, four)
    shot(page, "binary-after")
    assert Annotation.objects.get(example=one).labels == ["VIOLENCE"]
    assert Annotation.objects.get(example=two).labels == []
    assert not Annotation.objects.filter(example=three).exists()
    assert Assignment.objects.get(example=three).status == AssignmentStatus.SKIPPED


def test_singlelabel_key_picks_and_submits(login, live_server, owner, annotator_user):
    p = make_project(owner, "singlelabel", labels=("pos", "neg", "neutral"))
    Membership.objects.create(user=annotator_user, project=p, role=Role.ANNOTATOR)
    one, two = add_examples(p, ["great", "meh"])
    page = login(annotator_user)
    page.goto(annotate_url(live_server, p))
    showing(page, one)
    page.keyboard.press("Enter")  # nothing picked: refused, the error shows in place (422 swap)
    assert "exactly one label" in page.inner_text("#annotate-error")
    assert not Annotation.objects.exists()
    page.keyboard.press("3")
    showing(page, two)
    page.keyboard.press("q")
    page.wait_for_selector("#queue-empty")
    assert Annotation.objects.get(example=one).labels == ["neutral"]
    assert Annotation.objects.get(example=two).labels == ["pos"]
    page.keyboard.press("Backspace")  # undo works from the empty-queue screen too
    showing(page, two)
    assert not Annotation.objects.filter(example=two).exists()


def _drag(page, first_token, last_token):
    a = page.locator(f'#span-text .tok:text-is("{first_token}")').first.bounding_box()
    b = page.locator(f'#span-text .tok:text-is("{last_token}")').first.bounding_box()
    page.mouse.move(a["x"] + 3, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=5)
    page.mouse.move(b["x"] + b["width"] - 2, b["y"] + b["height"] / 2)
    page.mouse.up()


def test_drawing_and_removing_spans_with_the_mouse(login, live_server, owner, annotator_user, shot):
    p = make_project(owner, "spans", labels=("LOC", "PER"))
    Membership.objects.create(user=annotator_user, project=p, role=Role.ANNOTATOR)
    text = "Maria Lopez saw floods in New York City, again."
    one, two = add_examples(p, [text, "next one"])
    page = login(annotator_user)
    page.goto(annotate_url(live_server, p))
    showing(page, one)
    _drag(page, "New", "City")
    shot(page, "spans-selected")
    page.keyboard.press("1")  # LOC
    _drag(page, "Maria", "Lopez")
    page.keyboard.press("w")  # PER by shortcut
    _drag(page, "floods", "floods")
    page.keyboard.press("1")  # a wrong LOC on "floods" ...
    # Overlapping spans are refused in this project ("City" is already in the LOC span).
    _drag(page, "City", "again")
    page.keyboard.press("2")
    assert "overlapping" in page.inner_text("#client-msg")
    shot(page, "spans-drawn")
    page.locator('#span-text .tok:text-is("floods")').click()  # ... removed by a click
    shot(page, "spans-removed")
    page.keyboard.press("Enter")
    showing(page, two)
    spans = Annotation.objects.get(example=one, user=annotator_user).spans
    assert spans == [
        {"start": 0, "end": 11, "label": "PER"},
        {"start": text.index("New"), "end": text.index("City") + 4, "label": "LOC"},
    ]


def test_shift_arrows_select_words_for_a_span(login, live_server, owner, annotator_user):
    p = make_project(owner, "spans", labels=("LOC",))
    Membership.objects.create(user=annotator_user, project=p, role=Role.ANNOTATOR)
    (one,) = add_examples(p, ["in Buenos Aires now"])
    page = login(annotator_user)
    page.goto(annotate_url(live_server, p))
    showing(page, one)
    page.keyboard.press("ArrowRight")  # cursor on "in"
    page.keyboard.press("ArrowRight")  # "Buenos"
    page.keyboard.press("Shift+ArrowRight")  # + "Aires"
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#queue-empty")
    assert Annotation.objects.get(example=one).spans == [{"start": 3, "end": 15, "label": "LOC"}]


def test_undo_with_backspace_brings_the_example_back(login, live_server, project, annotator_user, shot):
    one, two = add_examples(project, ["first", "second"])
    page = login(annotator_user)
    page.goto(annotate_url(live_server, project))
    showing(page, one)
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    showing(page, two)
    assert Annotation.objects.filter(example=one).exists()
    page.keyboard.press("Backspace")
    showing(page, one)
    shot(page, "undone")
    assert not Annotation.objects.filter(example=one).exists()
    assert Assignment.objects.get(example=one).status == AssignmentStatus.ASSIGNED
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    showing(page, two)
    assert Annotation.objects.get(example=one).labels == ["AG"]


def test_editing_a_decision_from_the_history(login, live_server, project, annotator_user, shot):
    one, two, three = add_examples(project, ["first", "second", "third"])
    page = login(annotator_user)
    page.goto(annotate_url(live_server, project))
    for ex, key in ((one, "1"), (two, "2")):
        showing(page, ex)
        page.keyboard.press(key)
        page.keyboard.press("Enter")
    showing(page, three)
    page.click(f'#history a[data-example="{one.pk}"]')
    showing(page, one)
    assert page.url.endswith(f"/annotate/{one.pk}/")
    assert page.is_checked('input[value="HS"]')
    shot(page, "editing")
    page.keyboard.press("1")  # HS off
    page.keyboard.press("2")  # TR on
    page.keyboard.press("Enter")
    showing(page, three)  # the queue goes on where it was
    assert Annotation.objects.get(example=one, user=annotator_user).labels == ["TR"]
    assert Annotation.objects.filter(example=one).count() == 1


def test_plain_submit_works_without_javascript(login, live_server, project, annotator_user, shot):
    one, two = add_examples(project, ["first", "second"])
    page = login(annotator_user, javascript=False)
    page.goto(annotate_url(live_server, project))
    page.check('input[value="TR"]')
    page.click('button[data-action="submit"]')
    page.wait_for_selector(f'#workspace[data-example="{two.pk}"]')
    shot(page, "nojs")
    assert Annotation.objects.get(example=one).labels == ["TR"]


def test_project_page_renders(login, live_server, project, owner, shot):
    add_examples(project, ["a", "b"])
    page = login(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    assert page.inner_text("#count-total") == "2"
    shot(page, "project-page")


def test_model_suggestions_prefill_and_what_is_submitted_is_human(login, live_server, project,
                                                                  annotator_user, shot):
    from models_zoo.models import ModelVersion, Prediction

    (one,) = add_examples(project, ["they should all be sent back"])
    mv = ModelVersion.objects.create(project=project, backend="embedding_head", artifact_dir="/x",
                                     labels=["HS", "TR", "AG"], is_current=True)
    Prediction.objects.create(example=one, model_version=mv, labels=["HS", "AG"],
                              scores={"HS": 0.93, "TR": 0.08, "AG": 0.61})
    page = login(annotator_user)
    page.goto(annotate_url(live_server, project))
    showing(page, one)
    assert page.is_checked('input[value="HS"]') and page.is_checked('input[value="AG"]')
    assert page.locator(".choice.suggested").count() == 2
    shot(page, "suggestions")
    page.keyboard.press("3")  # the annotator disagrees on AG
    page.keyboard.press("Enter")
    page.wait_for_selector("#queue-empty")
    a = Annotation.objects.get(example=one, user=annotator_user)
    assert a.labels == ["HS"] and a.source == "human"


def test_two_annotators_at_once_keep_their_own_work(login, live_server, project, owner,
                                                    annotator_user, shot):
    project.overlap = 2
    project.save()
    one, two = add_examples(project, ["shared tweet", "another"])
    pages = [login(owner), login(annotator_user)]
    for page in pages:
        page.goto(annotate_url(live_server, project))
        showing(page, one)  # overlap 2: started examples are completed first, so both get it
    pages[0].keyboard.press("1")
    pages[1].keyboard.press("2")
    pages[1].keyboard.press("3")
    pages[0].keyboard.press("Enter")
    pages[1].keyboard.press("Enter")
    for page in pages:
        showing(page, two)
    shot(pages[1], "second-annotator")
    assert Annotation.objects.get(example=one, user=owner).labels == ["HS"]
    assert Annotation.objects.get(example=one, user=annotator_user).labels == ["TR", "AG"]
