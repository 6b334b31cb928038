"""A tiny span-tagging case for the contract test and the span tagger tests.

`make_case(tmp_path)` builds a tiny random BERT with a tokenizer trained on the fly on these
sentences (`tiny_hf.build_tiny_bert`, saved to a directory and loaded through the real
`from_pretrained` path) and a toy entity task: city names are LOC, a few first names are PER.
The 32-dim encoder learns it in seconds on CPU.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from models_zoo.backends.base import Item
from tests.models_zoo.tiny_hf import build_tiny_bert

CITIES = ["Paris", "Quito", "Houston", "Kathmandu", "Lima", "Manila", "Tokyo", "Oslo"]
PEOPLE = ["Maria", "Ahmed", "John", "Priya", "Luis", "Chen"]
TEMPLATES = [
    "flooding in {c} tonight , stay safe",
    "{p} says roads to {c} are closed",
    "help needed near {c} #flood",
    "thoughts with everyone in {c} and {c2}",
    "{p} and {p2} are volunteering today",
    "no news from {p} yet @someone http://t.co/x1",
    "power is back , thanks to all crews",
    "the storm moved north overnight",
]


def make_items(n: int, seed: int) -> list[Item]:
    """`n` generated tweets with character-offset PER / LOC spans."""
    rng = random.Random(seed)
    items = []
    for _ in range(n):
        template = rng.choice(TEMPLATES)
        fills = {"c": rng.choice(CITIES), "c2": rng.choice(CITIES), "p": rng.choice(PEOPLE),
                 "p2": rng.choice(PEOPLE)}
        text, spans = "", []
        for piece in _split_template(template):
            if piece in fills:
                label = "LOC" if piece.startswith("c") else "PER"
                spans.append({"start": len(text), "end": len(text) + len(fills[piece]), "label": label})
                text += fills[piece]
            else:
                text += piece
        items.append(Item(text=text, spans=spans))
    return items


def _split_template(template: str) -> list[str]:
    out, rest = [], template
    while "{" in rest:
        head, _, tail = rest.partition("{")
        key, _, rest = tail.partition("}")
        out += [head, key]
    out.append(rest)
    return [p for p in out if p]


def tiny_config(encoder_dir: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "encoder": str(encoder_dir), "lstm_hidden": 16, "dropout": 0.1, "batch_size": 8,
        "epochs": 8, "patience": 8, "lr_encoder": 1e-3, "lr_head": 2e-2, "max_length": 48,
        "device": "cpu",
    }
    config.update(overrides)
    return config


def make_case(tmp_path: Path) -> tuple[Any, list[Item], list[Item], list[Item]]:
    """(backend, train, validation, predict) for the parametrised contract test."""
    from models_zoo.backends.span_tagger import SpanTaggerBackend

    train, validation = make_items(48, seed=1), make_items(16, seed=2)
    predict = make_items(6, seed=3) + [Item(text=""), Item(text="   ")]
    encoder = build_tiny_bert(tmp_path / "tiny-bert", [i.text for i in train] + TEMPLATES)
    backend = SpanTaggerBackend(["LOC", "PER"], "spans", tiny_config(encoder))
    return backend, train, validation, predict
