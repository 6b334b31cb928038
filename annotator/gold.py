"""Gold labels: one label set per annotated example, from its annotations (issue 22 moved this
down from models_zoo.services.datasets: it reads annotator's data only, and the samples, the
label distribution and mining use it as much as training does).

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
from dataclasses import dataclass
from typing import Any

from annotator.models import Annotation, AnnotationSource, Project, TaskType


@dataclass
class GoldExample:
    example_id: int
    labels: list[str]
    spans: list[dict[str, Any]]
    annotation_ids: list[int]



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
