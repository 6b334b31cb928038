"""clip_fusion: learns image-only and text-only labels through the gated fusion, takes text-only
and image-only inputs, honours frozen towers, progress and cancellation, and names bad input."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models_zoo.backends.base import BackendError, Item, ProgressEvent, TrainingCancelled
from models_zoo.registry import get_backend
from tests.models_zoo.tiny_clip import build_tiny_clip, square_png
from tests.models_zoo.tiny_clip_fusion import (
    BLUE,
    RED,
    SENTENCES,
    make_case,
    make_items,
    tiny_config,
)


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny-clip", SENTENCES)


def _backend(clip_dir: Path, labels=("red", "urgent"), task_type="multimodal-multilabel", **overrides):
    from models_zoo.backends.clip_fusion import ClipFusionBackend

    return ClipFusionBackend(list(labels), task_type, tiny_config(clip_dir, **overrides))


def test_the_registry_resolves_clip_fusion() -> None:
    from models_zoo.backends.clip_fusion import ClipFusionBackend

    assert get_backend("clip_fusion") is ClipFusionBackend


def test_it_learns_an_image_label_and_a_text_label(tmp_path: Path) -> None:
    backend, train, validation, _ = make_case(tmp_path)
    events: list[ProgressEvent] = []
    report = backend.fit(train, validation, progress=events.append)

    per_class = report.metrics["per_class"]
    assert report.metrics["roc_auc_macro"] >= 0.9, report.metrics
    assert per_class["red"]["f1"] >= 0.8 and per_class["urgent"]["f1"] >= 0.8, per_class
    assert set(report.thresholds) == {"red", "urgent"}
    assert [e.step for e in events] == list(range(1, len(events) + 1))

    both, text_only, image_only = backend.predict([
        Item(text="fire here now", image=square_png(RED)),
        Item(text="flood there now"),
        Item(text="", image=square_png(BLUE)),
    ])
    assert both.labels == ["red", "urgent"]
    assert text_only.labels == ["urgent"]
    assert image_only.labels == []
    assert both.thresholds == report.thresholds


def test_the_gate_ignores_a_missing_modality(clip_dir: Path) -> None:
    """With the image absent, whatever pixels we could have sent cannot change the output."""
    backend = _backend(clip_dir, epochs=1)
    backend.fit(make_items(12, 1), make_items(6, 2))
    a = backend.predict_scores([Item(text="music here now")])
    b = backend.predict_scores([Item(text="music here now", image=None)])
    np.testing.assert_array_equal(a, b)
    nothing = backend.predict([Item(text="   ")])  # neither modality: still a prediction
    assert set(nothing[0].scores) == {"red", "urgent"}


def test_frozen_towers_stay_unchanged_and_the_head_still_learns(clip_dir: Path) -> None:
    backend = _backend(clip_dir, freeze_text=True, freeze_image=True, epochs=10, lr_head=1e-2)
    backend._build(str(clip_dir))
    before = {k: v.clone() for k, v in backend.net.clip.state_dict().items()}
    report = backend.fit(make_items(60, 1), make_items(24, 2))
    after = backend.net.clip.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert report.metrics["roc_auc_macro"] > 0.7, report.metrics


def test_freezing_only_the_text_tower_still_trains_the_image_tower(clip_dir: Path) -> None:
    backend = _backend(clip_dir, freeze_text=True, epochs=1)
    backend._build(str(clip_dir))
    before = {k: v.clone() for k, v in backend.net.clip.state_dict().items()}
    backend.fit(make_items(16, 1), make_items(6, 2))
    after = backend.net.clip.state_dict()
    text_keys = [k for k in before if k.startswith("text_model.")]
    vision_keys = [k for k in before if k.startswith("vision_model.") and k.endswith("weight")]
    assert all(torch.equal(before[k], after[k]) for k in text_keys)
    assert any(not torch.equal(before[k], after[k]) for k in vision_keys)


def test_binary_projects_use_one_label(clip_dir: Path) -> None:
    items = make_items(24, 1)
    binary = [Item(text=i.text, image=i.image, labels=[x for x in i.labels if x == "red"]) for i in items]
    backend = _backend(clip_dir, labels=("red",), task_type="binary", epochs=2)
    report = backend.fit(binary[:16], binary[16:])
    assert set(report.thresholds) == {"red"}
    with pytest.raises(BackendError, match="exactly one label"):
        _backend(clip_dir, labels=("yes", "no"), task_type="binary")
    with pytest.raises(BackendError, match="does not support task type 'singlelabel'"):
        _backend(clip_dir, task_type="singlelabel")


def test_a_cancelling_progress_callback_stops_training(clip_dir: Path) -> None:
    backend = _backend(clip_dir)

    def cancel(event: ProgressEvent) -> None:
        if event.step == 2:
            raise TrainingCancelled("stop")

    with pytest.raises(TrainingCancelled):
        backend.fit(make_items(40, 1), make_items(8, 2), progress=cancel)
    assert backend.thresholds == {} and backend.metrics == {}


def test_unreadable_image_bytes_name_the_item(clip_dir: Path) -> None:
    backend = _backend(clip_dir, epochs=1)
    backend.fit(make_items(8, 1), make_items(4, 2))
    with pytest.raises(BackendError, match=r"input item 1: image bytes are not a readable image"):
        backend.predict([Item(text="ok"), Item(text="broken", image=b"not a png")])


def test_base64_images_are_accepted_and_bad_base64_is_named() -> None:
    import base64

    from models_zoo.backends.clip_fusion import decode_image

    png = square_png(RED)
    assert decode_image(base64.b64encode(png).decode(), "x").getpixel((16, 16)) == RED
    with pytest.raises(BackendError, match="input item 3: image text is not valid base64"):
        decode_image("not base64!", "input item 3")


def test_unknown_gold_labels_name_the_item(clip_dir: Path) -> None:
    train = make_items(4, 1) + [Item(text="fire here now", labels=["blue"])]
    with pytest.raises(BackendError, match=r"train item 4: unknown label"):
        _backend(clip_dir).fit(train, make_items(4, 2))


def test_a_directory_that_is_not_clip_is_refused(tmp_path: Path) -> None:
    from tests.models_zoo.tiny_hf import build_tiny_bert

    bert = build_tiny_bert(tmp_path / "bert")
    with pytest.raises(BackendError, match="not a CLIP-like model"):
        _backend(bert).fit(make_items(4, 1), make_items(4, 2))
