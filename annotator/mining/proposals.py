"""Proposals after mining: what the "proposals" queue serves, statuses kept in step with human
decisions, and the per-band confirmation figures (how often annotators turned a mined
"negative" into a positive: the pool holds unlabelled positives, seed 003 / DESIGN.md)."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from annotator.models import Annotation, AnnotationSource, Example, Project
from annotator.models_mining import MiningMode, MiningRun, MiningState, Proposal, ProposalStatus


def queue_run(project: Project) -> MiningRun | None:
    """The run whose pending proposals the queue serves: the one marked `serves_queue`, else
    the project's latest succeeded run in propose mode."""
    runs = MiningRun.objects.filter(project=project, state=MiningState.SUCCEEDED,
                                    mode=MiningMode.PROPOSE)
    return runs.filter(serves_queue=True).first() or runs.order_by("-id").first()


def queue_context(project: Project) -> dict[str, Any]:
    """Context for the `proposals` queue strategy (annotator.services.queue_strategies)."""
    run = queue_run(project)
    return {"run_id": run.pk if run is not None else None}


def serve_in_queue(run: MiningRun) -> None:
    """Make `run` the one the annotate queue serves, and switch the project's queue to it."""
    with transaction.atomic():
        MiningRun.objects.filter(project_id=run.project_id).exclude(pk=run.pk).update(serves_queue=False)
        MiningRun.objects.filter(pk=run.pk).update(serves_queue=True)
        Project.objects.filter(pk=run.project_id).update(queue_strategy="proposals")
    run.serves_queue = True


def mined_for(example: Example) -> list[str]:
    """Labels this example was proposed as a difficult negative for (propose-mode runs)."""
    return sorted(set(
        Proposal.objects.filter(example=example, run__mode=MiningMode.PROPOSE)
        .values_list("run__label", flat=True)
    ))


def _status_from(annotation: Annotation | None, label: str, mode: str) -> str:
    if annotation is None:
        return ProposalStatus.PENDING if mode == MiningMode.PROPOSE else ProposalStatus.MINED_NEGATIVE
    chosen = set(annotation.labels or []) | {s.get("label") for s in annotation.spans or []}
    return ProposalStatus.TURNED_POSITIVE if label in chosen else ProposalStatus.CONFIRMED_NEGATIVE


def refresh_proposals(example_id: int) -> int:
    """Set the status of every proposal of the example from its latest human annotation
    (none left: back to pending / mined). Returns how many proposals changed."""
    latest = (
        Annotation.objects.filter(example_id=example_id, source=AnnotationSource.HUMAN)
        .order_by("-updated_at", "-id").first()
    )
    changed = 0
    for proposal in Proposal.objects.filter(example_id=example_id).select_related("run"):
        status = _status_from(latest, proposal.run.label, proposal.run.mode)
        decided_by = latest.user_id if latest is not None else None
        if proposal.status != status or proposal.decided_by_id != decided_by:
            Proposal.objects.filter(pk=proposal.pk).update(
                status=status, decided_by_id=decided_by,
                decided_at=timezone.now() if latest is not None else None,
            )
            changed += 1
    return changed


@receiver(post_save, sender=Annotation, dispatch_uid="mining-proposal-decided")
def _annotation_saved(sender: type, instance: Annotation, **kwargs: Any) -> None:
    if instance.source == AnnotationSource.HUMAN:
        refresh_proposals(instance.example_id)


def _example_deleted_too(origin: Any) -> bool:
    """Whether the deletion that removes an annotation started at its example or project (a
    cascade): then the example's proposals go in the same deletion, and refreshing them would
    only cost two queries per annotation (25k annotations in a 500k-example project)."""
    model = origin.model if isinstance(origin, QuerySet) else type(origin)
    return model in (Example, Project)


@receiver(post_delete, sender=Annotation, dispatch_uid="mining-proposal-undone")
def _annotation_deleted(sender: type, instance: Annotation, **kwargs: Any) -> None:
    if instance.source == AnnotationSource.HUMAN and not _example_deleted_too(kwargs.get("origin")):
        refresh_proposals(instance.example_id)


def band_figures(runs: Any) -> list[dict[str, Any]]:
    """Per band over `runs` (a MiningRun queryset): proposals, decided, turned positive,
    confirmed negative, pending, and the share of decided ones annotators turned positive."""
    rows = (
        Proposal.objects.filter(run__in=runs).values("band")
        .annotate(
            total=Count("id"),
            turned=Count("id", filter=Q(status=ProposalStatus.TURNED_POSITIVE)),
            confirmed=Count("id", filter=Q(status=ProposalStatus.CONFIRMED_NEGATIVE)),
            pending=Count("id", filter=Q(status__in=[ProposalStatus.PENDING, ProposalStatus.MINED_NEGATIVE])),
        )
    )
    by_band: dict[int, dict[str, Any]] = defaultdict(dict)
    for row in rows:
        by_band[row["band"]] = row
    out = []
    for band in (1, 2, 3):
        row = by_band.get(band) or {"total": 0, "turned": 0, "confirmed": 0, "pending": 0}
        decided = row["turned"] + row["confirmed"]
        out.append({
            "band": band, "proposals": row["total"], "decided": decided,
            "turned_positive": row["turned"], "confirmed_negative": row["confirmed"],
            "pending": row["pending"],
            "turned_positive_share": round(row["turned"] / decided, 4) if decided else None,
        })
    return out
