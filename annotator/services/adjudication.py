"""Disagreements and their adjudication: the admin's final decision on an example.

An example is a disagreement when at least two people annotated it (source "human") and their
labels (or spans) are not all the same. `adjudicate` stores the admin's final labels or spans as
the example's one annotation with source "adjudicated"; training takes it over the majority
vote (models_zoo.services.datasets.resolve_gold). The adjudication page and
`POST /api/v1/projects/{id}/examples/{eid}/adjudicate` both call `adjudicate`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Exists, OuterRef

from annotator.models import Annotation, AnnotationSource, Example, Project, TaskType
from annotator.services.annotations import AnnotationInvalid, validate_annotation


@dataclass(frozen=True)
class Vote:
    username: str
    labels: list[str]
    spans: list[dict[str, Any]]


@dataclass(frozen=True)
class Disagreement:
    example: Example
    votes: list[Vote]
    majority_labels: list[str]
    majority_spans: list[dict[str, Any]]
    adjudicated: Annotation | None


def disagreement_ids(project: Project, *, include_adjudicated: bool = False) -> list[int]:
    """Ids of the project's examples whose human annotations differ, oldest first.

    Stored labels are in label order and spans sorted (annotator.services.annotations), so two
    equal decisions are equal JSON and a distinct count tells the disagreements apart in SQL."""
    field = "spans" if project.task_type == TaskType.SPANS else "labels"
    rows = (
        Annotation.objects.filter(example__project=project, source=AnnotationSource.HUMAN)
        .values("example_id")
        .annotate(n=Count("id"), distinct=Count(field, distinct=True))
        .filter(n__gte=2, distinct__gte=2)
    )
    if not include_adjudicated:
        rows = rows.exclude(
            Exists(
                Annotation.objects.filter(
                    example=OuterRef("example_id"), source=AnnotationSource.ADJUDICATED
                )
            )
        )
    return sorted(row["example_id"] for row in rows)


def disagreement_for(project: Project, example: Example) -> Disagreement:
    """The votes on one example, their majority (the starting point the admin edits) and the
    adjudication so far, if any."""
    rows = list(
        Annotation.objects.filter(example=example)
        .filter(source__in=[AnnotationSource.HUMAN, AnnotationSource.ADJUDICATED])
        .select_related("user")
        .order_by("id")
    )
    votes = [
        Vote(r.user.username if r.user else "?", list(r.labels or []), list(r.spans or []))
        for r in rows
        if r.source == AnnotationSource.HUMAN
    ]
    adjudicated = next((r for r in rows if r.source == AnnotationSource.ADJUDICATED), None)
    n = len(votes)
    label_counts = Counter(name for v in votes for name in v.labels)
    span_counts = Counter((s["start"], s["end"], s["label"]) for v in votes for s in v.spans)
    order = list(project.labels.values_list("name", flat=True))
    majority_labels = [name for name in order if 2 * label_counts[name] > n]
    if project.task_type == TaskType.SINGLELABEL and label_counts and not majority_labels:
        majority_labels = [label_counts.most_common(1)[0][0]]
    majority_spans = [
        {"start": s, "end": e, "label": lab}
        for (s, e, lab), c in sorted(span_counts.items())
        if 2 * c > n
    ]
    return Disagreement(example, votes, majority_labels, majority_spans, adjudicated)


def adjudicate(
    *, user: AbstractBaseUser, example: Example, labels: Any = None, spans: Any = None
) -> Annotation:
    """Store the final labels (classification) or spans (spans task) of `example`, replacing
    an earlier adjudication. Validated like any annotation (AnnotationInvalid names the field).
    The caller checks that `user` is a project admin."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise AnnotationInvalid("an adjudication needs a signed-in admin.", "user")
    project = example.project
    clean_labels, clean_spans = validate_annotation(project, example, labels, spans)
    with transaction.atomic():
        annotation, _ = Annotation.objects.update_or_create(
            example=example,
            source=AnnotationSource.ADJUDICATED,
            defaults={"user": user, "labels": clean_labels, "spans": clean_spans},
        )
    return annotation


def next_disagreement(project: Project, after: int | None = None) -> int | None:
    """The first open disagreement after example id `after` (wrapping round), or None."""
    ids = disagreement_ids(project)
    if not ids:
        return None
    later = [i for i in ids if after is None or i > after]
    return (later or ids)[0]
