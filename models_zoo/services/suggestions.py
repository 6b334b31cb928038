"""What the pages below models_zoo show of the models, asked through config.hooks (issue 22
moved it up from annotator.web.annotate_context and annotator.services.agreement): the current
model's suggestion for an example, the transfer model in force while the project has no model
of its own (issue 18), and what the model suggested to each annotator (the agreement report)."""
from __future__ import annotations

import bisect
from collections import defaultdict
from typing import Any

from annotator.models import Annotation, Example, Project, TaskType
from models_zoo.models import ModelVersion, Prediction
from models_zoo.services.cold_start import effective_version, own_current_version


def current_suggestion(example: Example) -> Any:
    """The stored Prediction for `example` of the project's current model version; without
    one, of the project's transfer model version (issue 18), else None."""
    predictions = Prediction.objects.filter(example=example).select_related("model_version")
    own = predictions.filter(model_version__project_id=example.project_id,
                             model_version__is_current=True).first()
    transfer_id = example.project.transfer_model_version_id
    if own is not None or transfer_id is None:
        return own
    if own_current_version(example.project) is not None:
        return None  # the project's own model has not predicted this example yet
    return predictions.filter(model_version_id=transfer_id).first()


def transfer_in_force(project: Project) -> Any:
    """The project's transfer model version while it has no current model of its own."""
    if project.transfer_model_version_id is None:
        return None
    version, is_transfer = effective_version(project)
    return version if is_transfer else None


def suggestion_pairs(project: Project, rows: list[Annotation]) -> dict[str, list[tuple[Any, Any]]]:
    """Per annotator, (what they saved, what the model suggested or None).

    The page pre-fills the current version's stored prediction, and annotations do not record
    what was shown; so the suggestion is taken to be the prediction of the version that was
    current when the annotation was first saved (latest promoted_at before it), if that
    prediction existed by then."""
    versions = list(
        ModelVersion.objects.filter(project=project, promoted_at__isnull=False)
        .order_by("promoted_at")
        .values_list("promoted_at", "pk")
    )
    out: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
    if not versions:
        return out
    promoted = [p for p, _ in versions]
    preds = {
        (eid, vid): (created, labels, spans)
        for eid, vid, created, labels, spans in Prediction.objects.filter(
            model_version_id__in=[v for _, v in versions],
            example_id__in={r.example_id for r in rows},
        ).values_list("example_id", "model_version_id", "created_at", "labels", "spans")
    }
    spans_task = project.task_type == TaskType.SPANS
    for r in rows:
        i = bisect.bisect_right(promoted, r.created_at) - 1
        pred = preds.get((r.example_id, versions[i][1])) if i >= 0 else None
        suggested = None
        if pred is not None and pred[0] <= r.created_at:
            suggested = pred[2] if spans_task else pred[1]
        out[r.user.username].append((r.spans if spans_task else r.labels, suggested))
    return out
