"""Loaders for the shared real datasets used by the benchmarks (../shared/datasets).

Texts are normalised like the product stores them (`annotator.normalize.strip_tweet`, seeds
000/001's `clean_tweet`). Malformed rows raise an error naming file and line.
"""
from __future__ import annotations

import csv
import os
import random
from pathlib import Path

from annotator.normalize import strip_tweet
from models_zoo.backends.base import Item

ROOT = Path(__file__).resolve().parent.parent
# VIGIA_DATASETS_DIR (as for the tests) when the shared folder is not next to the checkout.
DATASETS = Path(os.environ.get("VIGIA_DATASETS_DIR") or ROOT.parent / "shared" / "datasets")
HATEVAL_LABELS = ("HS", "TR", "AG")


def read_hateval(split: str, lang: str = "en", labels: tuple[str, ...] = HATEVAL_LABELS) -> list[Item]:
    """HatEval 2019 `split` (train|dev) as Items with the given subset of HS/TR/AG as gold.

    The TSVs hold quotes inside texts, so they are read with quoting disabled."""
    path = DATASETS / "hateval2019" / f"{split}_{lang}.tsv"
    items = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        columns = {name: header.index(name) for name in ("text", *HATEVAL_LABELS)}
        for line_no, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise ValueError(f"{path}, line {line_no}: {len(row)} fields, expected {len(header)}")
            gold = [name for name in labels if row[columns[name]].strip() == "1"]
            items.append(Item(text=strip_tweet(row[columns["text"]]), labels=gold))
    return items


def crisislex_t6_events() -> list[str]:
    return sorted(p.name for p in (DATASETS / "crisislex" / "CrisisLexT6").iterdir() if p.is_dir())


def read_crisislex_t6(event: str, per_event: int | None = None, seed: int = 0) -> list[Item]:
    """One CrisisLex T6 event as binary Items (label `on-topic` or none); `per_event`
    subsamples (seeded, stratification left to chance: the events are ~50/50)."""
    folder = DATASETS / "crisislex" / "CrisisLexT6" / event
    path = next(folder.glob("*.csv"))
    items = []
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader)]
        text_col, label_col = header.index("tweet"), header.index("label")
        for line_no, row in enumerate(reader, start=2):
            if len(row) < len(header):
                raise ValueError(f"{path}, line {line_no}: {len(row)} fields, expected {len(header)}")
            label = row[label_col].strip()
            if label not in ("on-topic", "off-topic"):
                raise ValueError(f"{path}, line {line_no}: unknown label {label!r}")
            items.append(Item(text=strip_tweet(row[text_col]), labels=["on-topic"] if label == "on-topic" else []))
    if per_event is not None and per_event < len(items):
        items = random.Random(seed).sample(items, per_event)
    return items


def split_off(items: list[Item], fraction: float, seed: int = 0) -> tuple[list[Item], list[Item]]:
    """(rest, held-out) with `fraction` of the items held out, seeded shuffle."""
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    cut = round(len(items) * fraction)
    held = set(order[:cut])
    return [it for i, it in enumerate(items) if i not in held], [items[i] for i in order[:cut]]


def subsample(items: list[Item], n: int | None, seed: int = 0) -> list[Item]:
    if n is None or n >= len(items):
        return list(items)
    return random.Random(seed).sample(items, n)
