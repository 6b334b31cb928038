"""Model versions: listing, side-by-side comparison, promotion and auto-promotion.

Promotion is one transaction that locks the project's versions (select_for_update), unsets the
old current version and sets the new one; the prediction cache looks the current version id up
per request, so requests in flight finish on the old model and the next one uses the new model.

Auto-promotion compares the validation metric `f1_macro` (PROMOTION_METRIC) of the new version
with the current one's and promotes when it is strictly higher, or when no version is current.
It refuses to compare versions validated on different kinds of split (random vs a held-out
group vs a date range, or other groups/dates: `models_zoo.splits.split_signature`): then it does
not promote, and the reason is stored on the new version (`promotion_note`) and in the run log;
the admin promotes by hand. Random splits of changed data still differ, so this remains a
heuristic the admin opts into (Project.auto_promote), off by default.

A promotion also starts a chunked prediction job (`vigia.predict_chunk` tasks) for the new
version, so the suggestions shown to annotators follow the current model.
"""
from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from annotator.models import Project
from config.enqueue import BrokerUnavailable
from config.events import MODEL_PROMOTED, emit
from config.resilience import after_commit
from models_zoo.metric_names import headline_metrics, metric_title
from models_zoo.models import ModelVersion
from models_zoo.services.chunked_prediction import start_prediction_job
from models_zoo.splits import describe_split, split_record_of, split_signature

logger = logging.getLogger(__name__)

PROMOTION_METRIC = "f1_macro"


def promote_version(version: ModelVersion) -> ModelVersion:
    """Make `version` the project's current model, atomically."""
    with transaction.atomic():
        versions = list(
            ModelVersion.objects.select_for_update().filter(project_id=version.project_id)
        )
        previous = next((v.pk for v in versions if v.is_current), None)
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
            emit(MODEL_PROMOTED, target.project_id,
                 {"model_version": target.pk, "previous_version": previous})
    return target


def _refresh_suggestions_on_commit(version: ModelVersion) -> None:
    """The annotation UI pre-fills from the current version's stored predictions: once the
    promotion commits, predict the project with the new version as a chunked job shared by every
    worker (resumable: a done chunk is never redone)."""
    project_id, version_id = version.project_id, version.pk

    def start() -> None:
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            return
        try:
            start_prediction_job(project, version_id)
        except BrokerUnavailable:
            # The promotion is stored and serves; the job is marked failed with the reason
            # (resume it when the queue is back), so the promotion does not answer 503.
            logger.warning("promotion of version %s: its prediction job could not be queued", version_id)

    after_commit(start, f"predicting the project with promoted version {version_id}")


def current_version(project: Project) -> ModelVersion | None:
    return ModelVersion.objects.filter(project=project, is_current=True).first()


def metric_of(version: ModelVersion | None, name: str = PROMOTION_METRIC) -> float | None:
    if version is None:
        return None
    value = (version.metrics or {}).get(name)
    return float(value) if isinstance(value, (int, float)) else None


def promotion_metric_title(version: ModelVersion) -> str:
    """What PROMOTION_METRIC is for this version, in words (models_zoo.metric_names): with one
    label it is that label's F1, not a macro average."""
    task_type = Project.objects.filter(pk=version.project_id).values_list("task_type", flat=True).first()
    return metric_title(PROMOTION_METRIC, task_type or "", list(version.labels or []))


def promotion_decision(version: ModelVersion) -> tuple[bool, str]:
    """(promote?, why not) for auto-promotion of `version` against the current one."""
    current = ModelVersion.objects.filter(project_id=version.project_id, is_current=True).exclude(
        pk=version.pk
    ).first()
    if current is None:
        return True, ""
    new_split = split_record_of(version.data_snapshot)
    old_split = split_record_of(current.data_snapshot)
    title = promotion_metric_title(version)
    if split_signature(new_split) != split_signature(old_split):
        return False, (
            f"not auto-promoted: validated on a different split ({describe_split(new_split)}) than "
            f"the current version #{current.pk} ({describe_split(old_split)}); their "
            f"{title} values are not comparable. Promote it by hand if it should serve."
        )
    new, old = metric_of(version), metric_of(current)
    if new is None:
        return False, f"not auto-promoted: it has no validation {title}"
    if old is not None and new <= old:
        return False, (f"not auto-promoted: validation {title} {new:.3f} does not beat "
                       f"the current version #{current.pk}'s {old:.3f}")
    return True, ""


def beats_current(version: ModelVersion) -> bool:
    """True when `version` should replace the current model under auto-promotion."""
    return promotion_decision(version)[0]


def maybe_auto_promote(version: ModelVersion) -> bool:
    """Promote `version` when its project has auto_promote on and it beats the current one on
    the same kind of split; otherwise record why not on the version."""
    project = Project.objects.get(pk=version.project_id)
    if not project.auto_promote:
        return False
    promote, reason = promotion_decision(version)
    if not promote:
        version.promotion_note = reason
        version.save(update_fields=["promotion_note"])
        return False
    promote_version(version)
    return True


def snapshot_summary(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The small part of a data snapshot worth listing (the id lists stay on the detail view)."""
    counts = snapshot.get("counts", {})
    return {
        "seed": snapshot.get("seed"),
        "split": split_record_of(snapshot),
        "validation_fraction": snapshot.get("validation_fraction"),
        "n_examples": counts.get("examples"),
        "n_train": counts.get("train"),
        "n_validation": counts.get("validation"),
        "n_annotations": len(snapshot.get("annotation_ids", [])),
        "per_label": counts.get("per_label", {}),
    }


def comparison_rows(versions: list[ModelVersion], labels: list[str],
                    task_type: str = "multilabel") -> list[dict[str, Any]]:
    """One row per version with the metrics the versions page shows side by side; `headline`
    holds the values of `models_zoo.metric_names.headline_metrics`' columns, in order."""
    columns = [key for key, _ in headline_metrics(task_type, labels)]
    rows = []
    for v in versions:
        metrics = v.metrics or {}
        per_class = metrics.get("per_class") or {}
        summary = snapshot_summary(v.data_snapshot or {})
        rows.append({
            "version": v,
            "headline": [metrics.get(key) for key in columns],
            "f1_macro": metrics.get("f1_macro"),
            "f1_micro": metrics.get("f1_micro"),
            "roc_auc_macro": metrics.get("roc_auc_macro"),
            "per_class_f1": [(per_class.get(lab) or {}).get("f1") for lab in labels],
            "n_train": summary["n_train"],
            "n_validation": summary["n_validation"],
            "split": describe_split(summary["split"]),
            "split_kind": summary["split"].get("kind", "random"),
            "objective": (metrics.get("threshold_calibration") or {}).get("objective")
            or (v.config or {}).get("threshold_objective"),
        })
    return rows


def split_warning(versions: list[ModelVersion]) -> str:
    """A sentence for the versions page when the listed versions were validated on different
    splits (their metrics are not comparable); empty when they all share one."""
    records = {split_signature(split_record_of(v.data_snapshot)): split_record_of(v.data_snapshot)
               for v in versions}
    if len(records) < 2:
        return ""
    kinds = "; ".join(describe_split(r) for r in records.values())
    return (f"These versions were validated on {len(records)} different splits ({kinds}): compare "
            "metrics only between versions with the same validation split.")
