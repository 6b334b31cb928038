"""Promotion review (issue 13): metric changes, the worse / too-small warnings, confirm."""
from __future__ import annotations

import pytest

from models_zoo.models import ModelVersion
from models_zoo.services.promotion import (
    MIN_POSITIVES,
    MIN_VALIDATION_EXAMPLES,
    PromotionNeedsConfirmation,
    promote_reviewed,
    review_promotion,
)
from models_zoo.services.versions import promote_version

pytestmark = pytest.mark.django_db


def _version(project, f1, n_val=100, support=20, backend="embedding_head", labels=("HS", "TR")):
    per_class = {label: {"precision": f1, "recall": f1, "f1": f1, "support": support} for label in labels}
    return ModelVersion.objects.create(
        project=project, backend=backend, artifact_dir="/nowhere", labels=list(labels),
        thresholds={label: 0.4 for label in labels},
        metrics={"f1_macro": f1, "f1_micro": f1, "per_class": per_class},
        data_snapshot={"counts": {"train": 400, "validation": n_val}},
    )


def test_a_better_large_version_has_no_warnings_and_the_changes_are_listed(project):
    old = promote_version(_version(project, 0.5))
    new = _version(project, 0.6)
    review = review_promotion(new)
    assert review.current == old and review.warnings == []
    f1 = next(c for c in review.changes if c["metric"] == "f1_macro")
    assert f1 == {"metric": "f1_macro", "title": "F1 macro (mean over labels)", "new": 0.6, "old": 0.5,
                  "delta": 0.1}
    assert review.label_changes[0]["delta"] == 0.1 and review.label_changes[0]["old_threshold"] == 0.4
    assert promote_reviewed(new).is_current


def test_a_worse_version_needs_confirmation(project):
    promote_version(_version(project, 0.6))
    worse = _version(project, 0.4)
    with pytest.raises(PromotionNeedsConfirmation) as info:
        promote_reviewed(worse)
    assert "worse than the current version" in info.value.review.warnings[0]
    assert "0.400 against 0.600" in info.value.review.warnings[0]
    worse.refresh_from_db()
    assert not worse.is_current
    assert promote_reviewed(worse, confirm=True).is_current


def test_a_small_validation_split_or_few_positives_warns_even_without_a_current_version(project):
    small = _version(project, 0.9, n_val=MIN_VALIDATION_EXAMPLES - 1, support=MIN_POSITIVES - 1)
    warnings = review_promotion(small).warnings
    assert len(warnings) == 2
    assert f"only {MIN_VALIDATION_EXAMPLES - 1} examples" in warnings[0]
    assert f"HS ({MIN_POSITIVES - 1}), TR ({MIN_POSITIVES - 1})" in warnings[1]
    enough = _version(project, 0.9, n_val=MIN_VALIDATION_EXAMPLES, support=MIN_POSITIVES)
    assert review_promotion(enough).warnings == []


def test_a_span_model_with_f1_zero_is_flagged(owner):
    from tests.conftest import make_project

    spans = make_project(owner, task_type="spans", labels=("PER", "LOC"))
    promote_version(_version(spans, 0.55, backend="span_tagger", labels=("PER", "LOC")))
    zero = _version(spans, 0.0, n_val=12, support=2, backend="span_tagger", labels=("PER", "LOC"))
    warnings = review_promotion(zero).warnings
    assert any("worse" in w for w in warnings) and any("only 12 examples" in w for w in warnings)
    assert any("PER (2)" in w for w in warnings)


def test_rest_promotion_reports_warnings_and_refuses_them_with_confirm_false(owner_api, project):
    current = promote_version(_version(project, 0.6))
    worse = _version(project, 0.3)
    response = owner_api.post(f"/api/v1/models/{worse.pk}/promote", {"confirm": False}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert "confirm=true" in body["detail"] and body["current"] == current.pk
    assert any("worse" in w for w in body["warnings"]) and "30 examples" in body["rule"]
    worse.refresh_from_db()
    assert not worse.is_current
    # without confirm (existing callers) or with confirm=true it promotes and lists the warnings
    response = owner_api.post(f"/api/v1/models/{worse.pk}/promote")
    assert response.status_code == 200 and response.json()["is_current"] is True
    assert any("worse" in w for w in response.json()["warnings"])
    bad = owner_api.post(f"/api/v1/models/{worse.pk}/promote", {"confirm": "maybe"}, format="json")
    assert bad.status_code == 400 and "confirm" in bad.json()


def test_rest_promotion_without_warnings_passes_confirm_false(owner_api, project):
    promote_version(_version(project, 0.5))
    better = _version(project, 0.7)
    response = owner_api.post(f"/api/v1/models/{better.pk}/promote", {"confirm": False}, format="json")
    assert response.status_code == 200 and response.json()["warnings"] == []
