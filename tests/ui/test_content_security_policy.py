"""The pages pass their Content-Security-Policy in a real Chromium: no `securitypolicyviolation`
event and no CSP console error on the login, project, annotate (every task type) and models
pages, while the page's own script and htmx run (keys, swaps, polling)."""
from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from annotator.models import Membership, Role
from models_zoo.models import ModelVersion, TrainingRun
from tests.conftest import make_project
from tests.ui.conftest import ARTIFACTS
from tests.web.helpers import add_examples

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]

LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def watched(browser, live_server):
    """A signed-in page whose CSP violations (events and console errors) are collected."""
    contexts = []

    def do(user):
        ctx = browser.new_context(viewport={"width": 1280, "height": 860})
        contexts.append(ctx)
        ctx.add_init_script(LISTEN)
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        page.csp_console = []
        page.on("console", lambda m: page.csp_console.append(m.text)
                if "Content Security Policy" in m.text else None)
        page.goto(f"{live_server.url}/login/")
        assert_clean(page, "login")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", f"pw-{user.username}")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield do
    for ctx in contexts:
        ctx.close()


def assert_clean(page, where: str) -> None:
    page.wait_for_load_state("load")
    events = page.evaluate("window.__csp || []")
    assert events == [] and page.csp_console == [], f"{where}: {events} {page.csp_console}"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_login_project_and_annotate_pages_of_every_task_type_pass_the_policy(
        watched, live_server, owner, annotator_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    projects = {}
    for task_type, labels in [("multilabel", ("HS", "TR")), ("singlelabel", ("pos", "neg")),
                              ("binary", ("VIOLENCE",)), ("spans", ("LOC", "PER")),
                              ("multimodal-multilabel", ("flood", "fire"))]:
        p = make_project(owner, task_type, labels=labels)
        Membership.objects.create(user=annotator_user, project=p, role=Role.ANNOTATOR)
        examples = add_examples(p, [f"water rising in Lisbon ({task_type})", "second one"])
        if task_type == "multimodal-multilabel":
            examples[0].image.save("flood.png", ContentFile(png_bytes()))
        projects[task_type] = p
    page = watched(annotator_user)
    assert_clean(page, "project list")
    for task_type, p in projects.items():
        page.goto(f"{live_server.url}/projects/{p.pk}/")
        assert_clean(page, f"{task_type} project page")
        page.goto(f"{live_server.url}/projects/{p.pk}/annotate/")
        page.wait_for_selector("#workspace[data-example]")
        first = page.get_attribute("#workspace", "data-example")
        if task_type == "spans":
            page.keyboard.press("ArrowRight")  # the script's word cursor on "water"
            page.keyboard.press("1")
            page.keyboard.press("Enter")
        elif task_type == "binary":
            page.keyboard.press("a")
        elif task_type == "singlelabel":
            page.keyboard.press("q")
        else:
            page.keyboard.press("1")
            page.keyboard.press("Enter")
        # The script handled the key and htmx swapped in the next example.
        page.wait_for_selector(f'#workspace[data-example]:not([data-example="{first}"])')
        page.keyboard.press("Backspace")  # undo: another htmx round trip
        page.wait_for_selector(f'#workspace[data-example="{first}"]')
        if task_type == "multimodal-multilabel":
            assert page.evaluate("document.querySelector('img.example-image').naturalWidth") == 8
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"csp-annotate-{task_type}.png"), full_page=True)
        assert_clean(page, f"{task_type} annotate page")


def test_models_pages_pass_the_policy(watched, live_server, project, owner):
    run = TrainingRun.objects.create(project=project, backend="embedding_head", state="running",
                                     progress=0.4)
    done = TrainingRun.objects.create(project=project, backend="embedding_head", state="succeeded")
    ModelVersion.objects.create(project=project, run=done, backend="embedding_head",
                                artifact_dir="/nonexistent", labels=["HS", "TR", "AG"],
                                metrics={"f1_macro": 0.5}, is_current=True)
    page = watched(owner)
    for path in ("/models/", f"/models/projects/{project.pk}/runs/",
                 f"/models/projects/{project.pk}/versions/", f"/models/runs/{run.pk}/"):
        page.goto(live_server.url + path)
        assert_clean(page, path)
    # The run page polls its progress with htmx: let a poll land, then check again.
    with page.expect_response(lambda r: "/progress" in r.url, timeout=15_000):
        pass
    assert_clean(page, "run progress polling")
    page.goto(f"{live_server.url}/models/projects/{project.pk}/runs/")
    # Picking another backend swaps in its config form with htmx (an XHR the policy allows).
    with page.expect_response(lambda r: "config-fields" in r.url):
        page.select_option("#backend-picker select", "attention_bilstm")
    page.wait_for_selector("#start-run-form >> text=Word Vectors")
    page.screenshot(path=str(ARTIFACTS / "csp-models-runs.png"), full_page=True)
    assert_clean(page, "runs page with the config form")


def test_error_pages_are_styled_and_pass_the_policy(watched, live_server, owner, settings, shot):
    page = watched(owner)
    response = page.goto(f"{live_server.url}/projects/999999/")
    assert response.status == 404 and "Not found" in page.inner_text("main")
    shot(page, "404")
    assert_clean(page, "404 page")
    settings.ROOT_URLCONF = "tests.setup.boom_urls"
    response = page.goto(f"{live_server.url}/boom/")
    assert response.status == 500 and "Something went wrong" in page.inner_text("main")
    assert "Traceback" not in page.content()
    shot(page, "500")
    assert_clean(page, "500 page")
