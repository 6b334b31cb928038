"""Saving and undoing one person's annotation of one example.

Every edge (REST, the browser annotation UI, CLI) goes through `save_annotation` and
`delete_annotation`, so validation against the project's label schema, the one-current-annotation
rule and the assignment bookkeeping live in one place.

Concurrency: the unique constraint `annotation_one_per_user` (example, user) plus Django's
`update_or_create` (SELECT ... FOR UPDATE, then INSERT in a savepoint, falling back to the row a
concurrent transaction just committed) means two saves by the same user never produce two rows,
and saves by different users never touch each other's row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.dispatch import Signal

from annotator.models import (
    Annotation,
    AnnotationSource,
    Assignment,
    AssignmentStatus,
    Example,
    Project,
    TaskType,
)
from annotator.services import progress, queue
from config.resilience import after_commit

# Sent after the transaction that saved a human/model annotation commits, with
# `annotation`, `created` and `user`. The retraining policy listens here so it never sees
# annotations that were rolled back.
annotation_saved = Signal()

SPAN_TASKS = {TaskType.SPANS}
CLASSIFICATION_TASKS = {
    TaskType.MULTILABEL,
    TaskType.SINGLELABEL,
    TaskType.BINARY,
    TaskType.MULTIMODAL_MULTILABEL,
}
# Sources a person or a model may write through this service; "import" rows come from imports.
WRITABLE_SOURCES = {AnnotationSource.HUMAN, AnnotationSource.MODEL}


class AnnotationInvalid(ValueError):
    """The annotation does not fit the project's schema. `field` names the offending input
    (e.g. "labels", "spans[2].end") so edges can report it next to the right field."""

    def __init__(self, message: str, field: str = "non_field_errors") -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SaveResult:
    annotation: Annotation
    created: bool


def _project_label_names(project: Project) -> list[str]:
    return list(project.labels.order_by("order", "id").values_list("name", flat=True))


def validate_labels(project: Project, labels: Any) -> list[str]:
    """Return the labels in the project's label order, or raise AnnotationInvalid."""
    task_type = project.task_type
    if labels is None:
        labels = []
    if isinstance(labels, str | bytes) or not isinstance(labels, Sequence):
        raise AnnotationInvalid("labels must be a list of label names.", "labels")
    known = _project_label_names(project)
    chosen: set[str] = set()
    for i, name in enumerate(labels):
        if not isinstance(name, str):
            raise AnnotationInvalid(f"labels[{i}] must be a label name (a string).", "labels")
        if name not in known:
            raise AnnotationInvalid(
                f"labels[{i}]: unknown label {name!r}; this project has: {', '.join(known)}.",
                "labels",
            )
        if name in chosen:
            raise AnnotationInvalid(f"labels[{i}]: label {name!r} is given twice.", "labels")
        chosen.add(name)
    if task_type == TaskType.SINGLELABEL and len(chosen) != 1:
        raise AnnotationInvalid(
            f"a single-label project needs exactly one label, got {len(chosen)}.", "labels"
        )
    if task_type == TaskType.BINARY and len(chosen) > 1:
        # Binary: [] means reject, [the label] means accept.
        raise AnnotationInvalid(
            "a binary project takes [] (reject) or [the project's one label] (accept).", "labels"
        )
    return [name for name in known if name in chosen]


def validate_spans(project: Project, text: str, spans: Any) -> list[dict[str, Any]]:
    """Return spans sorted by (start, end, label), or raise AnnotationInvalid.

    Offsets are character offsets into the raw `Example.text`, end exclusive.
    """
    if spans is None:
        spans = []
    if isinstance(spans, str | bytes | dict) or not isinstance(spans, Iterable):
        raise AnnotationInvalid(
            'spans must be a list of {"start", "end", "label"} objects.', "spans"
        )
    known = set(_project_label_names(project))
    cleaned: list[dict[str, Any]] = []
    for i, span in enumerate(spans):
        where = f"spans[{i}]"
        if not isinstance(span, dict):
            raise AnnotationInvalid(
                f'{where} must be an object {{"start", "end", "label"}}.', "spans"
            )
        extra = set(span) - {"start", "end", "label"}
        if extra:
            raise AnnotationInvalid(
                f"{where} has unknown keys: {', '.join(sorted(extra))}.", "spans"
            )
        for key in ("start", "end"):
            value = span.get(key)
            # bool is an int subclass; True as an offset is a client bug, not position 1.
            if not isinstance(value, int) or isinstance(value, bool):
                raise AnnotationInvalid(f"{where}.{key} must be an integer offset.", "spans")
        start, end, label = span["start"], span["end"], span.get("label")
        if not 0 <= start < end <= len(text):
            raise AnnotationInvalid(
                f"{where}: needs 0 <= start < end <= {len(text)} (text length), "
                f"got start={start}, end={end}.",
                "spans",
            )
        if not isinstance(label, str) or label not in known:
            raise AnnotationInvalid(
                f"{where}.label: unknown label {label!r}; this project has: "
                f"{', '.join(sorted(known))}.",
                "spans",
            )
        cleaned.append({"start": start, "end": end, "label": label})
    cleaned.sort(key=lambda s: (s["start"], s["end"], s["label"]))
    for prev, cur in pairwise(cleaned):
        if prev == cur:
            raise AnnotationInvalid(
                f"span {cur['start']}-{cur['end']} {cur['label']!r} is given twice.", "spans"
            )
        if cur["start"] < prev["end"] and not project.allow_overlapping_spans:
            raise AnnotationInvalid(
                f"spans {prev['start']}-{prev['end']} ({prev['label']}) and "
                f"{cur['start']}-{cur['end']} ({cur['label']}) overlap; this project does not "
                "allow overlapping spans.",
                "spans",
            )
    return cleaned


def validate_annotation(
    project: Project, example: Example, labels: Any = None, spans: Any = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """Check labels/spans against the project's task type and schema; return cleaned values."""
    if project.task_type in SPAN_TASKS:
        if labels:
            raise AnnotationInvalid("a spans project takes spans, not document labels.", "labels")
        return [], validate_spans(project, example.text, spans)
    if spans:
        raise AnnotationInvalid(f"a {project.task_type} project takes labels, not spans.", "spans")
    return validate_labels(project, labels), []


def save_annotation_result(
    *,
    user: AbstractBaseUser,
    example: Example,
    labels: Any = None,
    spans: Any = None,
    source: str = AnnotationSource.HUMAN,
) -> SaveResult:
    """Like `save_annotation`, but also says whether the annotation was created or replaced."""
    if source not in WRITABLE_SOURCES:
        raise AnnotationInvalid(
            f"source must be one of {', '.join(sorted(WRITABLE_SOURCES))}, got {source!r}.",
            "source",
        )
    if user is None or not getattr(user, "is_authenticated", False):
        raise AnnotationInvalid("an annotation needs a signed-in user.", "user")
    project = example.project
    clean_labels, clean_spans = validate_annotation(project, example, labels, spans)
    with transaction.atomic():
        # An adjudication by this user is not their vote: never updated from here.
        annotation, created = Annotation.objects.exclude(
            source=AnnotationSource.ADJUDICATED
        ).update_or_create(
            example=example,
            user=user,
            defaults={"labels": clean_labels, "spans": clean_spans, "source": source},
        )
        Assignment.objects.filter(example=example, user=user).exclude(
            status=AssignmentStatus.DONE
        ).update(status=AssignmentStatus.DONE)
        after_commit(
            lambda: annotation_saved.send(
                sender=Annotation, annotation=annotation, created=created, user=user
            ),
            "annotation_saved receivers",
        )
    return SaveResult(annotation=annotation, created=created)


def save_annotation(
    *,
    user: AbstractBaseUser,
    example: Example,
    labels: Any = None,
    spans: Any = None,
    source: str = AnnotationSource.HUMAN,
) -> Annotation:
    """Create or replace `user`'s one current annotation of `example`.

    labels: label names (classification tasks). singlelabel: exactly one; binary: [] (reject)
    or [the single label] (accept); multilabel: any subset. spans: [{"start", "end", "label"}]
    character offsets into the raw text (spans task), no overlaps unless the project allows
    them. Marks the user's Assignment for the example (if any) done, in the same transaction.
    Raises AnnotationInvalid naming the field on bad input.
    """
    return save_annotation_result(
        user=user, example=example, labels=labels, spans=spans, source=source
    ).annotation


def delete_annotation(*, user: AbstractBaseUser, example: Example) -> None:
    """Undo: remove `user`'s annotation of `example` and hand the example back to them
    (their Assignment, if any, returns to "assigned"). A no-op when there is nothing to undo."""
    with transaction.atomic():
        Annotation.objects.filter(example=example, user=user).exclude(
            source=AnnotationSource.ADJUDICATED
        ).delete()
        Assignment.objects.filter(example=example, user=user).update(
            status=AssignmentStatus.ASSIGNED
        )


def undo_last_decision(project: Project, user: AbstractBaseUser) -> Any:
    """Undo `user`'s latest decision in `project` (an annotation or a skip) and bring that
    example back to the front of their queue; returns the `queue.LastDecision` undone, or None
    when there is nothing to undo. The annotate page's Undo and `POST .../undo` call this."""
    last = queue.last_decision(project, user)
    if last is None:
        return None
    with progress.tracking_decision(project, last.example, user), transaction.atomic():
        # Newest open assignment is what the queue resumes: that is the undone example.
        queue.touch(user, last.example, AssignmentStatus.ASSIGNED)
        if not last.skipped:
            delete_annotation(user=user, example=last.example)
    return last
