"""Issue 23: an embedding set whose encoder is a CLIP checkpoint directory (a tiny random CLIP,
built in-process under a model root) embeds text-only, image-only and text+image examples, one
vector each; "more like this" on an image example finds the example with the same image; mining
runs on the set. Real DB, real shared store, real model."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from annotator.importers import import_file
from annotator.models import Example, MiningRun
from annotator.services import embeddings as E
from annotator.services.annotations import save_annotation
from annotator.services.projects import create_project
from annotator.services.similarity import semantic_search, similar_examples
from models_zoo.backends import clip_embed
from models_zoo.mining.service import create_mining_run, mine_run
from tests.annotator.images.helpers import make_zip
from tests.models_zoo.tiny_clip import build_tiny_clip, square_png
from tests.models_zoo.tiny_clip_fusion import BLUE, RED, SENTENCES

pytestmark = pytest.mark.django_db

GREEN, GREY = (30, 200, 30), (128, 128, 128)


@pytest.fixture
def model_root(tmp_path, settings, monkeypatch) -> Path:
    root = tmp_path / "models"
    build_tiny_clip(root / "tiny-clip", SENTENCES)
    monkeypatch.delenv("VIGIA_MODEL_DIRS", raising=False)
    settings.VIGIA_MODEL_DIRS = str(root)
    settings.VIGIA_EMBEDDING_CHUNK_SIZE = 4
    clip_embed.clear_cache()
    yield root
    clip_embed.clear_cache()


ROWS = [("fire here now", "img/red.png"), ("coffee there again", ""), ("flood there now", ""),
        ("", "img/same-a.png"), ("", "img/same-b.png"), ("", "img/blue.png"),
        ("music here again", "img/green.png"), ("help again now", "img/blue2.png"),
        ("garden here now", ""), ("", "img/red2.png"), ("sunny there now", "img/grey2.png"),
        ("collapse here now", "")]


def posts_zip() -> bytes:
    """Text + image, text only and image only rows; `img/same-a.png` and `img/same-b.png` hold
    the same picture, but for one background pixel value (two image-only examples: the
    importer drops exact duplicates)."""
    files = {
        "img/red.png": square_png(RED), "img/blue.png": square_png(BLUE, offset=2),
        "img/same-a.png": square_png(GREY, offset=-3), "img/same-b.png": square_png(GREY, offset=-3, background=(255, 255, 254)),
        "img/green.png": square_png(GREEN), "img/blue2.png": square_png(BLUE, offset=-2),
        "img/red2.png": square_png(RED, offset=3), "img/grey2.png": square_png(GREY, offset=3),
    }
    manifest = "text,image\n" + "".join(f"{t},{i}\n" for t, i in ROWS)
    return make_zip({"manifest.csv": manifest, **files})


@pytest.fixture
def posts(owner, model_root):
    project = create_project(creator=owner, name="posts", task_type="multimodal-multilabel",
                             labels=["red", "urgent"])
    result = import_file(project, io.BytesIO(posts_zip()), "zip")
    assert result.imported == 12, result
    return project


def by_image(project, name: str) -> Example:
    """The example imported from the manifest row naming image `name` (stored images are
    renamed; examples keep the manifest's order)."""
    examples = list(Example.objects.filter(project=project).order_by("pk"))
    row = [i for i, (_text, image) in enumerate(ROWS) if image == f"img/{name}"]
    assert len(row) == 1 and examples[row[0]].image
    return examples[row[0]]


def test_a_clip_set_embeds_text_only_image_only_and_both_one_unit_vector_each(posts):
    assert E.check_encoder("tiny-clip") == "tiny-clip"
    embedding_set = E.embed_inline(E.request_embedding_set(posts, "tiny-clip", enqueue=False))
    assert embedding_set.state == "ready", embedding_set.error
    assert embedding_set.count == 12 and embedding_set.dim == 32
    ids, vectors = E.load_vectors(embedding_set)
    assert sorted(ids.tolist()) == sorted(Example.objects.filter(project=posts).values_list("pk", flat=True))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    # The rule (models_zoo/backends/clip_embed.py): text only -> CLIP text vector, image only ->
    # CLIP image vector, both -> normalized mean of the two.
    path = clip_embed.clip_directory("tiny-clip")
    red = square_png(RED)
    text_v = clip_embed.encode_clip_items(path, ["fire here now"], [None])[0]
    image_v = clip_embed.encode_clip_items(path, [""], [red])[0]
    both = by_image(posts, "red.png")
    stored = dict(zip(ids.tolist(), np.asarray(vectors), strict=True))
    mean = (text_v + image_v) / np.linalg.norm(text_v + image_v)
    np.testing.assert_allclose(stored[both.pk], mean, atol=1e-4)
    text_only = Example.objects.get(project=posts, text="coffee there again")
    np.testing.assert_allclose(
        stored[text_only.pk], clip_embed.encode_clip_items(path, ["coffee there again"], [None])[0], atol=1e-4)
    np.testing.assert_allclose(stored[by_image(posts, "red2.png").pk],
                               clip_embed.encode_clip_items(path, [""], [square_png(RED, offset=3)])[0], atol=1e-4)
    # Queries on a CLIP set are CLIP text vectors, in the same space.
    assert semantic_search(posts, "coffee there again", k=1, encoder="tiny-clip")[0]["example"] == text_only.pk


def test_more_like_this_on_an_image_example_finds_the_same_image_first(posts):
    E.embed_inline(E.request_embedding_set(posts, "tiny-clip", enqueue=False))
    a, b = by_image(posts, "same-a.png"), by_image(posts, "same-b.png")
    items = similar_examples(posts, a, k=5, encoder="tiny-clip")
    assert items[0]["example"] == b.pk and items[0]["score"] > 0.99
    assert a.pk not in [i["example"] for i in items]
    # The default (text) set is untouched by the CLIP one and still embeds texts only.
    assert E.ready_embedding_set(posts) is None


def test_mining_runs_on_the_clip_set(posts, owner):
    E.embed_inline(E.request_embedding_set(posts, "tiny-clip", enqueue=False))
    for suffix in ("red.png", "red2.png"):
        save_annotation(user=owner, example=by_image(posts, suffix), labels=["red"])
    run = create_mining_run(posts, owner, {"label": "red", "encoder": "tiny-clip", "band": 1,
                                           "tails": "both", "n": 1, "dedupe_threshold": 1.0},
                            enqueue_job=False)
    run = mine_run(MiningRun.objects.select_related("project").get(pk=run.pk))
    assert run.state == "succeeded", run.error
    assert run.positives == 2 and run.pool_size == 10 and run.proposed == 1
    picked = run.proposals.get().example
    assert picked.project_id == posts.pk and picked.pk not in {
        by_image(posts, "red.png").pk, by_image(posts, "red2.png").pk}


def test_margin_diverse_spreads_a_clip_fusion_batch_on_the_clip_set(posts, monkeypatch):
    from models_zoo.models import ModelVersion, Prediction
    from models_zoo.services import queue_scores

    monkeypatch.setattr(queue_scores, "DIVERSE_BATCH", 2)
    monkeypatch.setattr(queue_scores, "DIVERSE_M", 3)
    E.embed_inline(E.request_embedding_set(posts, "tiny-clip", enqueue=False))
    posts.queue_strategy = "margin_diverse"
    posts.save()
    version = ModelVersion.objects.create(
        project=posts, backend="clip_fusion", config={"clip": "tiny-clip"},
        artifact_dir="/nonexistent", labels=["red", "urgent"], is_current=True)
    examples = list(Example.objects.filter(project=posts).order_by("pk"))
    # The first six are equally unsure (the two near-identical images among them), the rest sure.
    Prediction.objects.bulk_create(
        Prediction(example=e, model_version=version,
                   scores={"red": 0.5, "urgent": 0.5} if i < 6 else {"red": 0.99, "urgent": 0.01})
        for i, e in enumerate(examples))
    ids, priorities = queue_scores.compute_priorities(posts)
    lifted = set(ids[priorities > 1.0].tolist())
    # No default (text) set exists: the lift comes from the CLIP set's vectors.
    assert E.ready_embedding_set(posts) is None
    assert len(lifted) == 2 and lifted <= {e.pk for e in examples[:6]}
    # One pick per cluster: never both near-identical images.
    assert not {by_image(posts, "same-a.png").pk, by_image(posts, "same-b.png").pk} <= lifted
