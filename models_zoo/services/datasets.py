"""Training data for a run: one gold label set per example, a seeded stratified split, and the
data snapshot stored on the resulting ModelVersion so a version can be reproduced.

Gold labels per example (in this order of preference):
0. an adjudicated annotation (an admin's final decision on a disagreement,
   annotator.services.adjudication): it alone is the gold, whatever the votes say;
1. human annotations; with several annotators, a majority vote per label (or per span), a tie
   decided by the most recent annotation; single-label projects take the plurality label;
2. the import annotation, when no human one exists;
3. a mined negative (source "mined", seed 003's difficult negatives used straight away: no
   label), when neither exists; any human decision overrides it;
4. model annotations (suggestions) never count as gold.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotator.media import read_media
from annotator.models import Annotation, AnnotationSource, Example, Project, TaskType
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
class GoldExample:
    example_id: int
    labels: list[str]
    spans: list[dict[str, Any]]
    annotation_ids: list[int]


@dataclass
class Dataset:
    train: list[Item]
    validation: list[Item]
    snapshot: dict[str, Any] = field(default_factory=dict)


def _span_key(span: dict[str, Any]) -> tuple[int, int, str]:
    return (int(span["start"]), int(span["end"]), str(span["label"]))


def _majority(units_per_annotation: Sequence[set[Any]], newest_first: Sequence[set[Any]]) -> set[Any]:
    """Units (labels or spans) chosen by more than half the annotators; a unit chosen by exactly
    half follows the most recent annotation."""
    n = len(units_per_annotation)
    counts: Counter[Any] = Counter(u for units in units_per_annotation for u in units)
    newest = newest_first[0]
    return {u for u, c in counts.items() if 2 * c > n or (2 * c == n and u in newest)}


def resolve_gold(annotations: Sequence[Annotation], task_type: str, label_names: Iterable[str]) -> GoldExample | None:
    """The gold label set of one example from its annotations (see the module docstring)."""
    valid = set(label_names)
    adjudicated = [a for a in annotations if a.source == AnnotationSource.ADJUDICATED]
    if adjudicated:
        final = adjudicated[0]
        ids = sorted(a.pk for a in annotations if a.source != AnnotationSource.MODEL)
        if task_type == TaskType.SPANS:
            spans = sorted(_span_key(s) for s in (final.spans or []) if s.get("label") in valid)
            return GoldExample(
                final.example_id, [], [{"start": s, "end": e, "label": lab} for s, e, lab in spans], ids
            )
        return GoldExample(
            final.example_id, sorted(lab for lab in (final.labels or []) if lab in valid), [], ids
        )
    humans = [a for a in annotations if a.source == AnnotationSource.HUMAN]
    imports = [a for a in annotations if a.source == AnnotationSource.IMPORT]
    mined = [a for a in annotations if a.source == AnnotationSource.MINED]
    chosen = humans or imports or mined
    if not chosen:
        return None
    chosen = sorted(chosen, key=lambda a: (a.updated_at, a.pk), reverse=True)
    ids = sorted(a.pk for a in chosen)
    example_id = chosen[0].example_id
    if task_type == TaskType.SPANS:
        sets = [{_span_key(s) for s in (a.spans or []) if s.get("label") in valid} for a in chosen]
        spans = sorted(_majority(sets, sets))
        return GoldExample(
            example_id, [], [{"start": s, "end": e, "label": lab} for s, e, lab in spans], ids
        )
    label_sets = [{lab for lab in (a.labels or []) if lab in valid} for a in chosen]
    if task_type == TaskType.SINGLELABEL:
        votes: Counter[str] = Counter(next(iter(s)) for s in label_sets if len(s) == 1)
        if not votes:
            return None
        top = max(votes.values())
        tied = {lab for lab, c in votes.items() if c == top}
        # Ties: the most recent annotation that voted for one of the tied labels wins.
        winner = next(next(iter(s)) for s in label_sets if len(s) == 1 and next(iter(s)) in tied)
        return GoldExample(example_id, [winner], [], ids)
    return GoldExample(example_id, sorted(_majority(label_sets, label_sets)), [], ids)


def gold_examples(project: Project) -> list[GoldExample]:
    """Gold label sets of every annotated example of `project`, in example id order."""
    label_names = list(project.labels.values_list("name", flat=True))
    by_example: dict[int, list[Annotation]] = defaultdict(list)
    annotations = Annotation.objects.filter(example__project=project).exclude(
        source=AnnotationSource.MODEL
    )
    for annotation in annotations.order_by("example_id", "id"):
        by_example[annotation.example_id].append(annotation)
    out = []
    for example_id in sorted(by_example):
        gold = resolve_gold(by_example[example_id], project.task_type, label_names)
        if gold is not None:
            out.append(gold)
    return out


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
    return Item(text=example.normalized_text or example.text, image=image, labels=gold.labels)


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
