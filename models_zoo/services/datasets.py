"""Training data for a run: one gold label set per example, a seeded stratified split, and the
data snapshot stored on the resulting ModelVersion so a version can be reproduced.

The gold label of an example (adjudicated, else the human majority, else the import, else a
mined negative; never a model suggestion) is annotator.gold's; it is re-exported here.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from annotator.gold import (  # noqa: F401 - re-exported: training reads the gold from here
    GoldExample,
    gold_examples,
    resolve_gold,
)
from annotator.media import read_media
from annotator.models import Example, Project, TaskType
from models_zoo.backends.base import Item
from models_zoo.recipe import MIN_EXAMPLES as RECIPE_MIN_EXAMPLES
from models_zoo.splits import (  # noqa: F401 - stratified_split is re-exported
    SplitEmpty,
    ValidationSplit,
    parse_split,
    split_positions,
    stratified_split,
)

VALIDATION_FRACTION = 0.2
# Below this a train/validation split says nothing; the API answers 400 with this number.
MIN_EXAMPLES = RECIPE_MIN_EXAMPLES


class DatasetError(ValueError):
    """The project's annotations cannot train a model yet; the message says why."""


@dataclass
class Dataset:
    train: list[Item]
    validation: list[Item]
    snapshot: dict[str, Any] = field(default_factory=dict)


def stratum_key(gold: GoldExample) -> str:
    """The stratum of an example: its label set (span projects: the set of span labels)."""
    names = sorted({s["label"] for s in gold.spans}) if gold.spans else gold.labels
    return "|".join(names) or "(none)"


def check_trainable(golds: Sequence[GoldExample], task_type: str) -> None:
    """Raise DatasetError unless `golds` can train and validate a model."""
    if len(golds) < MIN_EXAMPLES:
        raise DatasetError(
            f"need at least {MIN_EXAMPLES} annotated examples to train, the project has "
            f"{len(golds)}"
        )
    if task_type == TaskType.SPANS:
        if not any(g.spans for g in golds):
            raise DatasetError("need at least one annotated span to train a span tagger")
        return
    classes = {stratum_key(g) for g in golds}
    if len(classes) < 2:
        raise DatasetError(
            "need at least 2 classes among the annotated examples to train; every annotated "
            f"example has the label set {next(iter(classes))!r}"
        )


def _item_for(example: Example, gold: GoldExample, task_type: str) -> Item:
    image = None
    if example.image:
        image = read_media(example.image.name)  # the one read path for stored images
    if task_type == TaskType.SPANS:
        # Span offsets point into the raw text, so span models train on it.
        return Item(text=example.text, image=image, spans=gold.spans)
    return Item(text=example.normalized_text or example.text, image=image, labels=gold.labels,
                meta=dict(example.meta or {}))


def split_indices(golds: Sequence[GoldExample], examples: dict[int, Example], split: ValidationSplit,
                  seed: int) -> tuple[list[int], list[int], list[int]]:
    """(train, validation, excluded) indices into `golds` under `split`
    (models_zoo.splits.split_positions, which a simulation round uses too); DatasetError when
    a side is empty, naming the split's parameters."""
    keys = [stratum_key(g) for g in golds]
    values = None
    if split.kind != "random":
        meta_field = split.field or "created_at"
        values = [(examples[g.example_id].meta or {}).get(meta_field) for g in golds]
    try:
        return split_positions(split, keys, values, seed)
    except SplitEmpty as exc:
        raise DatasetError(str(exc)) from None


def check_split(golds: Sequence[GoldExample], split: ValidationSplit, task_type: str) -> None:
    """DatasetError unless `split` leaves both sides non-empty (a 400 before the run starts)."""
    if split.kind == "random":
        return
    examples = Example.objects.in_bulk([g.example_id for g in golds])
    split_indices(golds, examples, split, seed=0)


def build_dataset(project: Project, seed: int, fraction: float = VALIDATION_FRACTION,
                  split: ValidationSplit | dict[str, Any] | None = None) -> Dataset:
    """Items for train and validation plus the snapshot that reproduces them. `split` defaults
    to the random stratified split with `fraction`."""
    if split is None:
        split = ValidationSplit(fraction=fraction)
    elif isinstance(split, dict):
        split = parse_split(split)
    golds = gold_examples(project)
    check_trainable(golds, project.task_type)
    examples = Example.objects.in_bulk([g.example_id for g in golds])
    train_idx, val_idx, excluded_idx = split_indices(golds, examples, split, seed)
    items = [_item_for(examples[g.example_id], g, project.task_type) for g in golds]
    per_label: Counter[str] = Counter()
    for g in golds:
        per_label.update(g.labels or [s["label"] for s in g.spans])
    snapshot = {
        "seed": seed,
        "split": split.as_record(),
        "validation_fraction": split.fraction if split.kind == "random" else None,
        "stratified_on": "label set" if split.kind == "random" else None,
        "text_field": "text" if project.task_type == TaskType.SPANS else "normalized_text",
        "annotation_ids": sorted(a for g in golds for a in g.annotation_ids),
        "train_example_ids": [golds[i].example_id for i in train_idx],
        "validation_example_ids": [golds[i].example_id for i in val_idx],
        "counts": {
            "examples": len(golds),
            "train": len(train_idx),
            "validation": len(val_idx),
            "per_label": dict(sorted(per_label.items())),
        },
    }
    if split.kind == "date":
        snapshot["excluded_example_ids"] = [golds[i].example_id for i in excluded_idx]
        snapshot["counts"]["excluded"] = len(excluded_idx)
    return Dataset(
        train=[items[i] for i in train_idx],
        validation=[items[i] for i in val_idx],
        snapshot=snapshot,
    )
