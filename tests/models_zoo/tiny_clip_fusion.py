"""A tiny multimodal case for the contract test and the clip_fusion tests.

Label `red` depends only on the image (a red vs a blue square), label `urgent` only on the text
(an alarm keyword vs calm words). Items come as text + image, text only and image only, so the
modality-presence flags are exercised. The CLIP is `tiny_clip.build_tiny_clip` (random, 32-dim).
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from models_zoo.backends.base import Item
from tests.models_zoo.tiny_clip import build_tiny_clip, square_png

RED, BLUE = (220, 30, 30), (30, 30, 220)
URGENT_WORDS = ["fire", "flood", "help", "collapse"]
CALM_WORDS = ["sunny", "coffee", "music", "garden"]
SENTENCES = [f"{w} {x} now" for w in URGENT_WORDS + CALM_WORDS for x in ("here", "there", "again")]


def make_items(n: int, seed: int) -> list[Item]:
    """`n` items cycling through text+image, text-only and image-only."""
    rng = random.Random(seed)
    items = []
    for i in range(n):
        red, urgent = rng.random() < 0.5, rng.random() < 0.5
        word = rng.choice(URGENT_WORDS if urgent else CALM_WORDS)
        text = f"{word} {rng.choice(['here', 'there', 'again'])} now"
        image = square_png(RED if red else BLUE, offset=rng.randint(-3, 3))
        kind = i % 3
        labels = []
        if kind != 1 and red:  # the image is present
            labels.append("red")
        if kind != 2 and urgent:  # the text is present
            labels.append("urgent")
        items.append(Item(
            text=text if kind != 2 else "",
            image=image if kind != 1 else None,
            labels=labels,
        ))
    return items


def tiny_config(clip_dir: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "clip": str(clip_dir), "fusion_dim": 32, "batch_size": 8, "epochs": 12, "patience": 12,
        "lr_encoder": 1e-3, "lr_head": 5e-3, "warmup_ratio": 0.0, "device": "cpu",
    }
    config.update(overrides)
    return config


def make_case(tmp_path: Path) -> tuple[Any, list[Item], list[Item], list[Item]]:
    """(backend, train, validation, predict) for the parametrised contract test."""
    from models_zoo.backends.clip_fusion import ClipFusionBackend

    clip_dir = build_tiny_clip(tmp_path / "tiny-clip", SENTENCES)
    train, validation = make_items(60, seed=1), make_items(24, seed=2)
    predict = make_items(6, seed=3)
    backend = ClipFusionBackend(["red", "urgent"], "multimodal-multilabel", tiny_config(clip_dir))
    return backend, train, validation, predict
