"""Model versions: listing, side-by-side comparison, promotion and auto-promotion.

Promotion is one transaction that locks the project's versions (select_for_update), unsets the
old current version and sets the new one; the prediction cache looks the current version id up
per request, so requests in flight finish on the old model and the next one uses the new model.

Auto-promotion compares the validation metric `f1_macro` (PROMOTION_METRIC) of the new version
with the current one's and promotes when it is strictly higher, or when no version is current.
The two were measured on different validation splits when the data changed in between, so this
is a heuristic the admin opts into (Project.auto_promote), off by default.

A promotion also enqueues `vigia.predict_project` for the new version, so the suggestions shown
to annotators follow the current model.
"""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from annotator.models import Project
from models_zoo.models import ModelVersion

PROMOTION_METRIC = "f1_macro"


def promote_version(version: ModelVersion) -> ModelVersion:
    """Make `version` the project's current model, atomically."""
    with transaction.atomic():
        versions = list(
            ModelVersion.objects.select_for_update().filter(project_id=version.project_id)
        )
        for other in versions:
            if other.is_current and other.pk != version.pk:
                other.is_current = False
                other.save(update_fields=["is_current"])
        target = next(v for v in versions if v.pk == version.pk)
        if not target.is_current:
            target.is_current = True
            target.promoted_at = timezone.now()
            target.save(update_fields=["is_current", "promoted_at"])
            _refresh_suggestions_on_commit(target)
    return target


def _refresh_suggestions_on_commit(version: ModelVersion) -> None:
    """The annotation UI pre-fills from the current version's stored predictions: predict the
    project with the newly promoted version in the background (idempotent, resumable)."""
    from tasks.predictions import predict_project_task

    project_id, version_id = version.project_id, version.pk
    transaction.on_commit(
        lambda: predict_project_task.apply_async(args=[project_id, version_id])
    )


def current_version(project: Project) -> ModelVersion | None:
    return ModelVersion.objects.filter(project=project, is_current=True).first()


def metric_of(version: ModelVersion | None, name: str = PROMOTION_METRIC) -> float | None:
    if version is None:
        return None
    value = (version.metrics or {}).get(name)
    return float(value) if isinstance(value, (int, float)) else None


def beats_current(version: ModelVersion) -> bool:
    """True when `version` should replace the current model under auto-promotion."""
    current = ModelVersion.objects.filter(project_id=version.project_id, is_current=True).exclude(
        pk=version.pk
    ).first()
    if current is None:
        return True
    new, old = metric_of(version), metric_of(current)
    if new is None:
        return False
    return old is None or new > old


def maybe_auto_promote(version: ModelVersion) -> bool:
    """Promote `version` when its project has auto_promote on and it beats the current one."""
    project = Project.objects.get(pk=version.project_id)
    if not project.auto_promote or not beats_current(version):
        return False
    promote_version(version)
    return True


def snapshot_summary(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The small part of a data snapshot worth listing (the id lists stay on the detail view)."""
    counts = snapshot.get("counts", {})
    return {
        "seed": snapshot.get("seed"),
        "validation_fraction": snapshot.get("validation_fraction"),
        "n_examples": counts.get("examples"),
        "n_train": counts.get("train"),
        "n_validation": counts.get("validation"),
        "n_annotations": len(snapshot.get("annotation_ids", [])),
        "per_label": counts.get("per_label", {}),
    }


def comparison_rows(versions: list[ModelVersion], labels: list[str]) -> list[dict[str, Any]]:
    """One row per version with the metrics the versions page shows side by side."""
    rows = []
    for v in versions:
        metrics = v.metrics or {}
        per_class = metrics.get("per_class") or {}
        summary = snapshot_summary(v.data_snapshot or {})
        rows.append({
            "version": v,
            "f1_macro": metrics.get("f1_macro"),
            "f1_micro": metrics.get("f1_micro"),
            "roc_auc_macro": metrics.get("roc_auc_macro"),
            "per_class_f1": [(per_class.get(lab) or {}).get("f1") for lab in labels],
            "n_train": summary["n_train"],
            "n_validation": summary["n_validation"],
        })
    return rows
