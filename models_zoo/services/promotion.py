"""Promotion by hand, with a review: the metric changes against the current version and the
warnings an admin must confirm (the web confirm page and `POST /api/v1/models/{id}/promote`
both call `review_promotion` / `promote_reviewed`).

Warnings, for classifiers and span models alike:
- the new version is worse: its validation `f1_macro` (named by what it is, see
  models_zoo.metric_names: with one label, that label's F1) is lower than the current
  version's (or it has none);
- its validation split is too small to trust: fewer than MIN_VALIDATION_EXAMPLES validation
  examples, or fewer than MIN_POSITIVES gold positives (examples with the label; for spans,
  entities of the type) for some label;
- the two versions were validated on different splits (their metrics are not comparable).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from annotator.models import Project
from models_zoo.metric_names import is_one_label, metric_title
from models_zoo.models import ModelVersion
from models_zoo.services.versions import PROMOTION_METRIC, metric_of, promote_version
from models_zoo.splits import describe_split, split_record_of, split_signature

MIN_VALIDATION_EXAMPLES = 30
MIN_POSITIVES = 5
RULE = (f"A validation split is too small to trust with fewer than {MIN_VALIDATION_EXAMPLES} examples, "
        f"or fewer than {MIN_POSITIVES} gold positives (for spans: entities) of some label.")
COMPARED = ("f1_macro", "f1_micro", "roc_auc_macro", "precision_micro", "recall_micro")


class PromotionNeedsConfirmation(Exception):
    def __init__(self, review: PromotionReview) -> None:
        super().__init__("; ".join(review.warnings))
        self.review = review


@dataclass
class PromotionReview:
    version: ModelVersion
    current: ModelVersion | None
    changes: list[dict[str, Any]] = field(default_factory=list)
    label_changes: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    n_validation: int | None = None
    rule: str = RULE
    metric_title: str = PROMOTION_METRIC  # what PROMOTION_METRIC is, in words

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version.pk, "current": self.current.pk if self.current else None,
                "changes": self.changes, "label_changes": self.label_changes,
                "warnings": self.warnings, "n_validation": self.n_validation, "rule": self.rule,
                "metric_title": self.metric_title}


def _delta(new: Any, old: Any) -> float | None:
    if isinstance(new, (int, float)) and isinstance(old, (int, float)):
        return round(float(new) - float(old), 4)
    return None


def validation_size(version: ModelVersion) -> int | None:
    counts = (version.data_snapshot or {}).get("counts") or {}
    n = counts.get("validation")
    if n is None:
        n = (version.metrics or {}).get("n")
    return int(n) if isinstance(n, (int, float)) else None


def small_split_warnings(version: ModelVersion) -> list[str]:
    """The too-small-to-trust rule (RULE) on what the version recorded."""
    out = []
    n = validation_size(version)
    if n is not None and n < MIN_VALIDATION_EXAMPLES:
        out.append(f"its validation split has only {n} examples (fewer than {MIN_VALIDATION_EXAMPLES}): "
                   "its metrics are too noisy to trust")
    per_class = (version.metrics or {}).get("per_class") or {}
    few = [f"{label} ({per_class[label].get('support', 0)})" for label in version.labels or []
           if label in per_class and int(per_class[label].get("support") or 0) < MIN_POSITIVES]
    if few:
        out.append(f"fewer than {MIN_POSITIVES} gold positives in validation for {', '.join(few)}: "
                   "those labels' metrics and thresholds are unreliable")
    return out


def review_promotion(version: ModelVersion) -> PromotionReview:
    """What promoting `version` would change and what the admin should be warned about."""
    current = ModelVersion.objects.filter(project_id=version.project_id, is_current=True).first()
    task_type = Project.objects.filter(pk=version.project_id).values_list("task_type", flat=True).first() or ""
    labels = list(version.labels or [])
    review = PromotionReview(version=version, current=current, n_validation=validation_size(version),
                             metric_title=metric_title(PROMOTION_METRIC, task_type, labels))
    new_m, old_m = version.metrics or {}, (current.metrics or {}) if current else {}
    # With one label the micro F1 is the positive-class F1 again: one row, not two.
    compared = [n for n in COMPARED if not (is_one_label(task_type, labels) and n == "f1_micro")]
    for name in compared:
        if name in new_m or name in old_m:
            review.changes.append({"metric": name, "title": metric_title(name, task_type, labels),
                                   "new": new_m.get(name), "old": old_m.get(name),
                                   "delta": _delta(new_m.get(name), old_m.get(name))})
    new_pc, old_pc = new_m.get("per_class") or {}, old_m.get("per_class") or {}
    for label in version.labels or []:
        new_f1 = (new_pc.get(label) or {}).get("f1")
        old_f1 = (old_pc.get(label) or {}).get("f1")
        review.label_changes.append({
            "label": label, "new": new_f1, "old": old_f1, "delta": _delta(new_f1, old_f1),
            "support": (new_pc.get(label) or {}).get("support"),
            "threshold": (version.thresholds or {}).get(label),
            "old_threshold": (current.thresholds or {}).get(label) if current else None,
        })
    if current is not None and current.pk == version.pk:
        return review
    new, old = metric_of(version), metric_of(current)
    if new is None:
        review.warnings.append(f"it has no validation {review.metric_title}")
    elif old is not None and new < old:
        review.warnings.append(f"it is worse than the current version #{current.pk}: validation "
                               f"{review.metric_title} {new:.3f} against {old:.3f}")
    review.warnings += small_split_warnings(version)
    if current is not None:
        a, b = split_record_of(version.data_snapshot), split_record_of(current.data_snapshot)
        if split_signature(a) != split_signature(b):
            review.warnings.append(f"it was validated on a different split ({describe_split(a)}) than the "
                                   f"current version ({describe_split(b)}): the metrics are not comparable")
    return review


def promote_reviewed(version: ModelVersion, confirm: bool = False) -> ModelVersion:
    """Promote `version`; when the review has warnings, only with `confirm`
    (else PromotionNeedsConfirmation carrying the review)."""
    review = review_promotion(version)
    if review.warnings and not confirm:
        raise PromotionNeedsConfirmation(review)
    return promote_version(version)
