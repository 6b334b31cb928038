"""Issue 20 in a real Chromium: an example's image reaches members through the members-only
URL, a hostile query parameter is a readable 400 page, and a dead task queue is a clear 503
page (screenshots under test-artifacts/ui/)."""
from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from tests.web.helpers import add_examples

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def a_picture() -> bytes:
    """A 240x120 PNG (blue sky over a grey road), big enough to see on the screenshot."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 120), (96, 165, 250))
    ImageDraw.Draw(image).rectangle([0, 80, 240, 120], fill=(107, 114, 128))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_the_annotate_page_shows_the_image_through_the_members_only_url(login, live_server, project, owner, shot):
    example = add_examples(project, ["flooding on the main road"])[0]
    example.image.save("flood.png", ContentFile(a_picture()), save=True)
    page = login(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/annotate/")
    image = page.wait_for_selector("img.example-image")
    assert f"/api/v1/projects/{project.pk}/examples/{example.pk}/image" in image.get_attribute("src")
    assert page.evaluate("img => img.naturalWidth", image) == 240  # it loaded, with the session
    shot(page, "annotate-image")


def test_a_nul_in_a_query_parameter_is_a_readable_400_page(login, live_server, project, owner, shot):
    page = login(owner)
    response = page.goto(f"{live_server.url}/projects/{project.pk}/data/?q=a%00b")
    assert response.status == 400
    assert "This request cannot be used" in page.inner_text("h1")
    assert "q: contains a NUL character" in page.inner_text(".error")
    shot(page, "bad-query")


def test_a_dead_task_queue_is_a_clear_503_page(login, live_server, project, owner, shot, broker_down):
    add_examples(project, ["flood water rising downtown", "cats sleeping on a sofa"])
    page = login(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/embeddings/")
    with page.expect_response(lambda r: r.url.endswith("/embeddings/compute/")) as answer:
        page.click("#compute-embeddings")
    assert answer.value.status == 503
    page.wait_for_selector("h1")
    assert "Temporarily unavailable" in page.inner_text("h1")
    assert "task queue is unavailable" in page.inner_text(".error")
    shot(page, "broker-down")
