"""The whole loop, walked in Chromium on `make run`'s own configuration: the embedded PostgreSQL
server, the `filesystem://` broker and a real Celery worker (tests/stack.py), every step
through the real pages. Small data: 100 tweets; the models are the packaged MiniLM encoder
with a logistic-regression head (a few seconds at this size). Screenshots in
test-artifacts/ui/test_the_whole_loop_*.png."""
from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable

import pytest

pytestmark = [pytest.mark.ui, pytest.mark.embedded, pytest.mark.integration]

FLOOD = ["River flooding downtown, water rising on {} street", "Flood warning: evacuate {} now",
         "Water is over the bridge on {} road, flood everywhere"]
OTHER = ["Great concert tonight at the {} park", "New coffee place on {} is lovely",
         "Traffic is slow near {} this morning"]
STREETS = ["Main", "Elm", "Oak", "Pine", "Cedar", "Maple", "Birch", "Lake", "Hill", "Bay",
           "Mill", "Park", "River", "Spring", "Church", "High", "King", "Queen", "Bridge", "Market"]


def _tweets(path) -> None:
    """100 tweets over five days, half about a flood; the first 60 carry a label."""
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "text", "label", "created_at", "retweet_count", "event"])
        for i in range(100):
            flood = i % 2 == 0
            text = (FLOOD if flood else OTHER)[i % 3].format(f"{STREETS[i % 20]} {i}")
            label = ("flood" if flood else "no") if i < 60 else ""
            day = 1 + i % 5
            out.writerow([f"t{i}", text, label, f"2024-03-0{day} 1{i % 10}:00:00", i % 13 * 7,
                          "storm" if i % 2 else "river"])


def _until(page, check: Callable[[], object], what: str, seconds: float = 180,
           reload: bool = True) -> object:
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = check()
        except Exception:  # noqa: BLE001 - the page is being swapped or reloaded
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} on {page.url}")
        time.sleep(1.5)
        if reload:
            page.reload()


def _annotate_by_keys(page, n: int) -> int:
    """Decide `n` examples on the annotate page with A/X, as the text says; how many done."""
    done = 0
    for _ in range(n):
        if page.locator("#example-text").count() == 0:
            break
        current = page.get_attribute("#workspace", "data-example")
        text = page.inner_text("#example-text").lower()
        page.keyboard.press("a" if "flood" in text or "water" in text else "x")
        page.wait_for_selector(f'#workspace:not([data-example="{current}"])')
        done += 1
    return done


def _decide_until(page, selector: str, most: int = 5) -> None:
    """Decide (by keys) what the queue still holds for this user from before (a claimed
    example is resumed first) until `selector` shows."""
    for _ in range(most):
        if page.locator(selector).count():
            return
        _annotate_by_keys(page, 1)
    page.wait_for_selector(selector)


def test_the_whole_loop_on_the_make_run_configuration(demo_stack, browser, shot, tmp_path):
    demo_stack.manage("migrate", "--noinput")
    demo_stack.manage("shell", "-c", "from django.contrib.auth.models import User; "
                      "User.objects.create_user('ana', password='pw-ana')")
    demo_stack.start()
    base = demo_stack.url
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", "pw-ana")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    # 1. Create a project.
    page.click("#new-project")
    page.wait_for_selector("#project-form")
    page.fill("#id_name", "Floods")
    page.select_option("#id_task_type", "binary")
    page.fill("input[name=label-0-name]", "flood")
    page.click("#save-project")
    page.wait_for_selector("#import")
    project = int(re.search(r"/projects/(\d+)/", page.url).group(1))

    # 2. Import a file with times.
    data = tmp_path / "floods.csv"
    _tweets(data)
    page.set_input_files("#import input[name=file]", str(data))
    page.click("#import button.primary")
    page.wait_for_selector("text=Imported 100 examples")
    shot(page, "1-imported")

    # 3. Annotate by keys.
    page.goto(f"{base}/projects/{project}/annotate/")
    page.wait_for_selector("#workspace[data-example]")
    assert _annotate_by_keys(page, 6) == 6
    assert page.inner_text("#my-done") == "6"
    shot(page, "2-annotated")

    # 4. Train and promote.
    page.goto(f"{base}/models/projects/{project}/runs/")
    page.select_option("#id_backend_pick", "embedding_head")
    page.wait_for_selector("#config-fields")
    page.click("#start-run-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/models/runs/\d+/$"))
    _until(page, lambda: page.inner_text("#run-state") == "succeeded", "the training run",
           seconds=300, reload=False)
    shot(page, "3-trained")
    page.click("#run-progress a[href*='/models/versions/']")
    page.click("#promote-link")
    page.click("#promote-confirm")
    page.wait_for_url(re.compile(rf".*/models/projects/{project}/versions/$"))
    assert "(current)" in page.inner_text("body") or "current" in page.inner_text("body")

    # 5. See suggestions (the worker predicts every example after the promotion).
    page.goto(f"{base}/projects/{project}/annotate/")
    _until(page, lambda: page.locator(".banner.suggestion").count() == 1
           and page.locator("#model-says").count() == 1, "a suggestion")
    shot(page, "4-suggestion")

    # 6. Switch the queue to margin and read the reason.
    page.goto(f"{base}/projects/{project}/")
    page.click("#queue-link")
    page.select_option("select[name=queue_strategy]", "margin")
    page.click("#queue-form button[type=submit]")
    page.wait_for_selector("#strategies")
    page.goto(f"{base}/projects/{project}/annotate/")
    reason = _until(page, lambda: page.locator("#why-picked").count()
                    and "model unsure" in page.inner_text("#why-picked")
                    and page.inner_text("#why-picked"), "the margin reason")
    assert re.search(r"model unsure[^0-9]*0\.\d\d", reason), reason
    shot(page, "5-margin")

    # 7. Embed.
    page.goto(f"{base}/projects/{project}/")
    page.click("#embeddings-link")
    page.click("#compute-embeddings")
    _until(page, lambda: page.locator("#embedding-sets .state-ready").count() == 1, "the embeddings",
           reload=False)
    assert "100" in page.inner_text("#embedding-sets")
    shot(page, "6-embedded")

    # 8. Mine, confirm one proposal and flip one.
    page.goto(f"{base}/projects/{project}/mining/")
    for band in ("1", "2", "3"):
        page.select_option("select[name=label]", "flood")
        page.select_option("select[name=band]", band)
        page.select_option("select[name=tails]", "both")
        page.fill("input[name=n]", "2")
        page.click("#mining-form button[type=submit]")
        page.wait_for_load_state()
        if page.locator("#run-state").count():
            break
    _until(page, lambda: "succeeded" in page.inner_text("#run-state"), "the mining run",
           reload=False)
    assert page.inner_text("#proposed") == "2"
    run_url = page.url
    page.click("#serve-btn")
    page.wait_for_selector("#serving")
    page.goto(f"{base}/projects/{project}/annotate/")
    page.wait_for_selector("#workspace[data-example]")
    _decide_until(page, "#mined-banner")
    first = page.get_attribute("#workspace", "data-example")
    page.keyboard.press("x")  # really not a flood: the proposal is confirmed
    page.wait_for_selector(f'#workspace:not([data-example="{first}"])')
    page.wait_for_selector("#mined-banner")
    shot(page, "7-proposal")
    second = page.get_attribute("#workspace", "data-example")
    page.keyboard.press("a")  # a flood after all: the proposal is flipped
    page.wait_for_selector(f'#workspace:not([data-example="{second}"])')
    page.goto(run_url)
    assert page.locator(".bands .turned").first.inner_text() == "1"
    assert page.locator(".bands .confirmed").first.inner_text() == "1"
    shot(page, "8-mining-run")

    # 9. Run a simulation.
    page.goto(f"{base}/projects/{project}/queue/")
    page.click("#simulations-link")
    page.fill("input[name=n0]", "10")
    page.fill("input[name=batch]", "10")
    page.fill("input[name=rounds]", "2")
    page.fill("input[name=seeds]", "1")
    page.fill("input[name=test_fraction]", "0.25")
    page.click("#simulation-form button[type=submit]")
    page.wait_for_selector("#simulation-state")
    _until(page, lambda: page.locator("svg.simulation-curve").count(), "the simulation",
           seconds=240, reload=False)
    shot(page, "9-simulation")

    # 10. Draw a sample and annotate it.
    page.goto(f"{base}/projects/{project}/samples/")
    page.fill("input[name=field]", "retweet_count")
    page.fill("input[name=cuts]", "40")
    page.select_option("select[name=sizing]", "size")
    page.fill("input[name=size]", "6")
    page.fill("input[name=seed]", "3")
    page.click("#draw-button")
    page.wait_for_selector("#estimates")
    sample_url = page.url
    page.click("#queue-button")
    page.wait_for_selector("#queued")
    page.goto(f"{base}/projects/{project}/annotate/")
    page.wait_for_selector("#workspace")
    _annotate_by_keys(page, 12)  # until the sample is done (the page then has no example)
    assert page.locator("#example-text").count() == 0
    page.goto(sample_url)
    row = page.locator("#estimates tbody tr").first.locator("td")
    assert row.nth(8).inner_text() == "0"  # still to annotate
    assert row.nth(7).inner_text() == "6" and row.nth(1).inner_text() != "–"
    shot(page, "10-sample")

    # 11. Read the index with its days.
    page.goto(f"{base}/projects/{project}/index/?label=flood")
    page.wait_for_selector("#index-chart")
    assert "5 days" in page.inner_text("body")
    assert page.locator("#index-chart polyline.share").count() >= 1
    shot(page, "11-index")

    # 12. Open the map.
    page.goto(f"{base}/models/projects/{project}/map/")
    if page.locator("#map-compute").count():
        page.click("#map-compute")
    _until(page, lambda: page.locator("#embedding-map circle").count() >= 90, "the map",
           seconds=300)
    shot(page, "12-map")
    ctx.close()
