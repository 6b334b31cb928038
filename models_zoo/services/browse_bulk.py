"""Bulk actions of the data browser on a selection: chosen ids, or every example matching a
filter. One use case behind the browser page and `POST /api/v1/projects/{id}/examples/bulk`.

- delete: the examples with their annotations, assignments and predictions (one transaction).
- front: send them to the front of the annotation queue. The queue strategies order unclaimed
  examples by `queue_key` (random, sample) or by `al_score` then `queue_key` (active learning),
  and both stay below FRONT_KEY otherwise (queue_key is in [0, 1), active-learning priorities
  below 2), so setting both to FRONT_KEY plus a clock term makes them the next claims, the most
  recently sent first. The queue rescore leaves such examples alone (queue_key >= 1).
  Sequential and proposals queues have no priority to raise: a clear error says so.
- export: the exporters' jsonl/csv/conll restricted to the selection.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from annotator.exporters import iter_export
from annotator.images.examples import delete_images_on_commit
from annotator.models import Example, Project
from config.inputs import INT64_MAX, InvalidInput, parse_int
from models_zoo.services.browse import BrowseFilter, filtered_examples

FRONT_KEY = 1000.0
ACTIONS = ("delete", "front", "export")
# Strategies whose order does not read queue_key / al_score.
_NO_PRIORITY = ("sequential", "proposals")


class BulkActionInvalid(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Selection:
    """Either explicit ids or a filter (every matching example)."""

    ids: tuple[int, ...] = ()
    filter: BrowseFilter | None = None


def selection_from(ids: Sequence[Any] | None, browse_filter: BrowseFilter | None) -> Selection:
    if browse_filter is not None:
        return Selection(filter=browse_filter)
    clean: list[int] = []
    if not isinstance(ids, (list, tuple, type(None))):
        raise BulkActionInvalid("ids", "must be a list of example ids.")
    for raw in ids or []:
        try:
            clean.append(parse_int(raw, "ids", lo=1, hi=INT64_MAX))
        except InvalidInput:
            raise BulkActionInvalid("ids", f"{raw!r} is not an example id.") from None
    if not clean:
        raise BulkActionInvalid("ids", "select at least one example (or all matching the filter).")
    return Selection(ids=tuple(clean))


def selected(project: Project, selection: Selection) -> QuerySet[Example]:
    if selection.filter is not None:
        return filtered_examples(project, selection.filter).order_by()
    return Example.objects.filter(project=project, pk__in=selection.ids)


def delete_examples(project: Project, selection: Selection) -> int:
    """Delete the selected examples; returns how many."""
    with transaction.atomic():
        ids = list(selected(project, selection).values_list("pk", flat=True))
        deleted = 0
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            rows = Example.objects.filter(project=project, pk__in=chunk)
            delete_images_on_commit(rows.exclude(image="").values_list("image", flat=True))
            rows.delete()
            deleted += len(chunk)
    return deleted


def send_to_front(project: Project, selection: Selection) -> int:
    """Make the selected examples the queue's next claims; returns how many were moved."""
    strategy = project.queue_strategy or "random"
    if strategy in _NO_PRIORITY:
        raise BulkActionInvalid(
            "action", f"the project's queue strategy {strategy!r} has no priority to raise "
            "(it serves in a fixed order); switch to random or an active-learning strategy."
        )
    # Later sends go before earlier ones; within one send the random key decides.
    key = FRONT_KEY + time.time() / 1e6
    with transaction.atomic():
        ids = selected(project, selection).values("pk")
        return Example.objects.filter(project=project, pk__in=ids).update(
            queue_key=key, al_score=key
        )


def export_selection(
    project: Project, selection: Selection, fmt: str, for_user: Any | None
) -> Iterator[str]:
    """The selection in `fmt` as text chunks; raises ExportError for a bad format."""
    ids = selected(project, selection).values("pk")
    return iter_export(project, fmt, for_user=for_user, only=Q(pk__in=ids))
