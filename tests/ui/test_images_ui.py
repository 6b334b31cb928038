"""Issue 23 in a real Chromium: import a ZIP of images (the preview shows thumbnails), annotate
two items by keys with the image beside the text (keyboard zoom), and see the thumbnails in
the data browser (filtered on "has image")."""
from __future__ import annotations

import pytest

from annotator.models import Annotation, Example
from tests.annotator.images.helpers import jpeg, make_zip, png

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def _loaded(page, selector: str) -> bool:
    return page.eval_on_selector_all(
        selector, "els => els.length > 0 && els.every(e => e.complete && e.naturalWidth > 0)")


def _wait_loaded(page, selector: str, seconds: float = 15) -> None:
    """Every image matching `selector` has loaded (polled from Python: the pages' CSP forbids
    the eval that wait_for_function needs)."""
    import time

    deadline = time.monotonic() + seconds
    while not _loaded(page, selector):
        assert time.monotonic() < deadline, f"{selector} did not load"
        page.wait_for_timeout(100)


def test_import_a_zip_annotate_by_keys_and_see_thumbnails(login, live_server, project, owner, shot, tmp_path, settings):
    settings.VIGIA_UPLOAD_DIR = tmp_path / "uploads"
    archive = tmp_path / "memes.zip"
    archive.write_bytes(make_zip({
        "manifest.csv": "text,image\nflooded street downtown,img/a.png\n,img/b.jpg\ntext only here,\n",
        "img/a.png": png((200, 40, 40), size=(320, 200)), "img/b.jpg": jpeg((40, 90, 200), size=(240, 240)),
    }))
    page = login(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.set_input_files("#import input[type=file]", str(archive))
    page.select_option("#import select[name=format]", "zip")
    page.click("#preview-import")
    page.wait_for_selector("img.thumb")
    assert page.locator("img.thumb").count() == 2
    _wait_loaded(page, "img.thumb")
    shot(page, "preview")
    assert not Example.objects.filter(project=project).exists()
    page.click("#confirm-import")
    page.wait_for_url(f"{live_server.url}/projects/{project.pk}/**")
    assert Example.objects.filter(project=project).count() == 3
    assert Example.objects.filter(project=project).exclude(image="").count() == 2

    # Annotate two items by keys (queue order is random: whichever come first).
    page.goto(f"{live_server.url}/projects/{project.pk}/annotate/")
    page.wait_for_selector("#annotate-form")
    done = 0
    seen_image = False
    for _ in range(2):
        first = page.get_attribute("#workspace", "data-example")
        if page.locator("#example-image").count():
            seen_image = True
            _wait_loaded(page, "#example-image")
            fit = page.eval_on_selector("#example-image", "e => e.clientWidth")
            page.keyboard.press("+")
            assert page.inner_text("#zoom-level") == "150%"
            assert page.eval_on_selector("#example-image", "e => e.clientWidth") == round(fit * 1.5)
            shot(page, f"annotate-{done}-zoomed")
            page.keyboard.press("0")
            assert page.inner_text("#zoom-level") == "100%"
            assert page.eval_on_selector("#example-image", "e => e.clientWidth") == fit
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        page.wait_for_selector(f'#workspace:not([data-example="{first}"])')
        done += 1
    assert Annotation.objects.filter(example__project=project, user=owner).count() == 2
    assert all(a.labels == ["HS"] for a in Annotation.objects.filter(user=owner))
    if not seen_image:  # both first claims were text-only? impossible: only one is
        pytest.fail("the annotate page never showed an image")

    page.goto(f"{live_server.url}/projects/{project.pk}/data/?has_image=yes")
    page.wait_for_selector("img.thumb")
    _wait_loaded(page, "img.thumb")
    assert page.locator("img.thumb").count() == 2
    rows = page.locator("tbody tr").count()
    assert rows == 2
    shot(page, "browse")
    page.goto(f"{live_server.url}/projects/{project.pk}/data/?has_image=no")
    assert page.locator("img.thumb").count() == 0 and "text only here" in page.inner_text("body")


def test_the_training_form_offers_the_clip_checkpoints_under_the_model_roots(login, live_server, owner, shot, tmp_path, settings, monkeypatch):
    from annotator.services.projects import create_project
    from tests.models_zoo.tiny_clip import build_tiny_clip

    root = tmp_path / "models"
    build_tiny_clip(root / "tiny-clip")
    monkeypatch.delenv("VIGIA_MODEL_DIRS", raising=False)
    settings.VIGIA_MODEL_DIRS = str(root)
    project = create_project(creator=owner, name="memes", task_type="multimodal-multilabel", labels=["flood", "fire"])
    page = login(owner)
    page.goto(f"{live_server.url}/models/projects/{project.pk}/runs/?backend=clip_fusion")
    page.wait_for_selector("#checkpoints_clip")
    assert "tiny-clip (clip)" in page.inner_text("#checkpoints_clip")
    assert page.get_attribute("#id_cfg__clip", "list") == "dl_cfg__clip"
    page.fill("#id_cfg__clip", "tiny-clip")
    shot(page, "training-form")
