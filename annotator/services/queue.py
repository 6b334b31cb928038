"""The annotation queue: which example an annotator labels next (use case over the strategies
in `queue_strategies`).

Rules:
- Resume first: an example already assigned to the annotator and not done comes back (the most
  recently touched one, so an undone example returns before the one that was on screen).
- Otherwise claim one: an example whose `assigned_count` is below the project's overlap k and
  that this annotator never had (Assignment is unique per (example, user)). Among those, examples
  that others already started come first (so k-way overlap completes examples instead of
  spreading thin), then the project's queue strategy decides.
- Skipped examples keep their slot (nobody else is handed them instead) and come back to the
  same annotator only when nothing else is left, oldest skip first. Skipping is a "not now", not
  a release; an admin who wants them relabelled elsewhere raises the overlap.

Concurrency: the claim is `SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1` followed by an atomic
`assigned_count = assigned_count + 1`, in one transaction (when SKIP LOCKED finds nothing, one
blocking `FOR UPDATE` retry waits for in-flight claims, so a busy queue never looks empty). Two annotators claiming at once never
lock the same row, and the counter can never pass k because the WHERE clause is re-checked
against the committed row. The (example, user) unique constraint is the last line of defence.
Speed: with the "random" strategy the claim walks the index (project, assigned_count,
queue_key) and stops at the first row, so it stays fast with millions of examples.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from annotator.models import (
    Annotation,
    AnnotationSource,
    Assignment,
    AssignmentStatus,
    Example,
    Project,
)
from annotator.services.queue_strategies import STRATEGIES, QueueStrategy, get_strategy

# How many times a claim is retried when a concurrent claim won the same row (or the same user
# claimed from two tabs at once and the unique constraint refused the second).
_CLAIM_ATTEMPTS = 5


def open_assignment(project: Project, user: AbstractBaseUser) -> Assignment | None:
    """The annotator's assigned-but-not-done example in `project`, most recently touched."""
    return (
        Assignment.objects.filter(
            user=user, status=AssignmentStatus.ASSIGNED, example__project=project
        )
        .select_related("example")
        .order_by("-updated_at", "-id")
        .first()
    )


def strategy_for(project: Project) -> QueueStrategy:
    """The project's queue strategy, given the project context it asks for (if any)."""
    from django.utils.module_loading import import_string

    cls = STRATEGIES.get(project.queue_strategy or "random")
    provider = getattr(cls, "context_provider", "") if cls is not None else ""
    context = import_string(provider)(project) if provider else None
    return get_strategy(project.queue_strategy, context)


def _claim(project: Project, user: AbstractBaseUser) -> Example | None:
    strategy = strategy_for(project)
    mine = Assignment.objects.filter(example=OuterRef("pk"), user=user)
    # Annotations made without an assignment (REST, imports by this user) also count as "had it".
    labelled = Annotation.objects.filter(example=OuterRef("pk"), user=user)
    candidates = (
        Example.objects.filter(
            project=project, assigned_count__lt=project.overlap, **strategy.filter_for(project)
        )
        .filter(~Exists(mine), ~Exists(labelled))
        .order_by("-assigned_count", *strategy.order_by())
    )
    for attempt in range(_CLAIM_ATTEMPTS):
        # First try SKIP LOCKED: concurrent claims never wait on each other. If that finds
        # nothing, the only candidates left may be rows other claims hold right now, so wait
        # for them once (plain FOR UPDATE re-checks the WHERE on the committed row).
        query = candidates.select_for_update(skip_locked=attempt == 0, of=("self",))
        outermost = not connection.in_atomic_block
        try:
            with transaction.atomic():
                if outermost:
                    # A claim lost in a crash is harmless (it vanishes whole, counter and row
                    # together, and the annotator is simply handed another example), so it need
                    # not wait for the WAL flush; annotations themselves stay fully durable. Only
                    # when this is the outermost transaction: SET LOCAL lasts until its end.
                    with connection.cursor() as cur:
                        cur.execute("SET LOCAL synchronous_commit TO OFF")
                picked = query.first()
                if picked is None:
                    if attempt == 0:
                        continue
                    return None
                # The WHERE re-check keeps the count right if the row changed since the read.
                bumped = Example.objects.filter(
                    pk=picked.pk, assigned_count__lt=project.overlap
                ).update(assigned_count=F("assigned_count") + 1)
                if not bumped:
                    continue
                Assignment.objects.create(example_id=picked.pk, user=user)
        except IntegrityError:
            continue
        picked.assigned_count += 1
        picked.project = project
        # Nobody's annotation of it can be this user's yet: lets the page skip a lookup.
        picked.freshly_claimed = True
        return picked
    return None


def _reopen_skipped(project: Project, user: AbstractBaseUser) -> Example | None:
    skipped = (
        Assignment.objects.filter(
            user=user, status=AssignmentStatus.SKIPPED, example__project=project
        )
        .order_by("updated_at", "id")
        .first()
    )
    if skipped is None:
        return None
    Assignment.objects.filter(pk=skipped.pk).update(
        status=AssignmentStatus.ASSIGNED, updated_at=timezone.now()
    )
    return Example.objects.select_related("project").get(pk=skipped.example_id)


def next_example(project: Project, user: AbstractBaseUser) -> Example | None:
    """The example `user` should label next in `project`, claiming a new one if needed.

    Returns None when the annotator has nothing left (every example has k annotators or was
    already theirs, and nothing they skipped is waiting).
    """
    current = open_assignment(project, user)
    if current is not None:
        return current.example
    return _claim(project, user) or _reopen_skipped(project, user)


def skip(project: Project, user: AbstractBaseUser, example: Example) -> bool:
    """Mark `user`'s assignment of `example` skipped (it comes back when all else is done).

    Returns False when the example was not assigned to the user (nothing to skip).
    """
    return bool(
        Assignment.objects.filter(
            example=example, user=user, example__project=project
        )
        .exclude(status=AssignmentStatus.DONE)
        .update(status=AssignmentStatus.SKIPPED, updated_at=timezone.now())
    )


def touch(user: AbstractBaseUser, example: Example, status: str | None = None) -> None:
    """Bump the assignment's `updated_at` (and optionally its status) so the queue's
    most-recent-first resume order and the undo order see this decision as the latest."""
    values: dict[str, object] = {"updated_at": timezone.now()}
    if status is not None:
        values["status"] = status
    Assignment.objects.filter(example=example, user=user).update(**values)


@dataclass(frozen=True)
class LastDecision:
    """What undo takes back: the user's newest annotation, or their newest skip."""

    example: Example
    skipped: bool


def last_decision(project: Project, user: AbstractBaseUser) -> LastDecision | None:
    """The user's latest decision in `project`, for undo.

    Annotations carry their own `updated_at` (bumped on every save, edits included) and walk
    the (user, updated_at) index; skips are the user's skipped assignments. The newer wins.
    """
    annotation = (
        Annotation.objects.filter(user=user, example__project=project)
        .exclude(source=AnnotationSource.ADJUDICATED)
        .select_related("example")
        .order_by("-updated_at", "-id")
        .first()
    )
    skipped = (
        Assignment.objects.filter(
            user=user, example__project=project, status=AssignmentStatus.SKIPPED
        )
        .select_related("example")
        .order_by("-updated_at", "-id")
        .first()
    )
    if skipped is not None and (annotation is None or skipped.updated_at > annotation.updated_at):
        return LastDecision(example=skipped.example, skipped=True)
    if annotation is not None:
        return LastDecision(example=annotation.example, skipped=False)
    return None
