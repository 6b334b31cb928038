"""The embeddings page, semantic search and "more like this" in a real Chromium."""
from __future__ import annotations

import pytest

from annotator.models import EmbeddingSet
from annotator.services import embeddings as E
from annotator.services.similarity import similar_examples
from tests.models_zoo.tiny_hf import tiny_bert_dir
from tests.web.helpers import add_examples

pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]

TEXTS = ["flood water rising downtown", "cats sleeping on a sofa", "earthquake shook the city",
         "the river burst its banks after the storm", "a lovely sunny picnic in the park"]


def test_an_admin_computes_embeddings_searches_and_follows_more_like_this(
    login, live_server, project, owner, shot, settings, tmp_path
):
    examples = add_examples(project, TEXTS)
    page = login(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.click("#embeddings-link")
    assert "No embeddings yet" in page.inner_text("#embedding-sets")
    page.click("#compute-embeddings")
    page.wait_for_selector("#embedding-sets .state-queued")
    assert "1 chunk(s) to embed" in page.inner_text(".messages")
    shot(page, "queued")
    assert EmbeddingSet.objects.get(project=project).encoder == "default"

    # No worker runs in this test: a second set (the tiny encoder) is embedded in-process.
    tiny = E.request_embedding_set(project, str(tiny_bert_dir()), enqueue=False)
    E.embed_inline(tiny)
    page.goto(f"{live_server.url}/projects/{project.pk}/embeddings/")
    page.fill("input[name=q]", "cats sleeping on a sofa")
    page.fill("input[name=k]", "3")
    page.click("#search button[type=submit]")
    page.wait_for_selector("table.similar")
    rows = page.locator("table.similar tbody tr")
    assert rows.count() == 3
    assert TEXTS[1] in rows.nth(0).inner_text() and "1.000" in rows.nth(0).inner_text()
    shot(page, "search")

    rows.nth(0).locator("a.more-like-this").click()
    page.wait_for_url(f"**/projects/{project.pk}/examples/{examples[1].pk}/")
    expected = [r["example"] for r in similar_examples(project, examples[1], 10, tiny.encoder)]
    links = page.locator("#similar a.more-like-this")
    assert links.count() == 4
    hrefs = [links.nth(i).get_attribute("href") for i in range(4)]
    assert hrefs == [f"/projects/{project.pk}/examples/{pk}/" for pk in expected]
    assert page.dialogs == []
    shot(page, "example")
