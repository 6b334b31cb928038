from __future__ import annotations

from models_zoo.models import ModelVersion
from models_zoo.services.versions import (
    beats_current,
    comparison_rows,
    maybe_auto_promote,
    promote_version,
)


def _version(project, f1, **extra) -> ModelVersion:
    return ModelVersion.objects.create(
        project=project, backend="stepping", artifact_dir="/nowhere", labels=["HS", "TR", "AG"],
        metrics={"f1_macro": f1, "f1_micro": f1, "roc_auc_macro": 0.7,
                 "per_class": {"HS": {"f1": 0.1}, "AG": {"f1": 0.3}}},
        data_snapshot={"seed": 1, "counts": {"train": 16, "validation": 4}, "annotation_ids": [1, 2]},
        **extra,
    )


def test_promotion_moves_the_current_flag_atomically(project):
    old = promote_version(_version(project, 0.4))
    new = promote_version(_version(project, 0.6))
    old.refresh_from_db()
    assert new.is_current and new.promoted_at and not old.is_current
    assert ModelVersion.objects.filter(project=project, is_current=True).count() == 1


def test_promoting_the_current_version_again_changes_nothing(project):
    version = promote_version(_version(project, 0.4))
    stamp = version.promoted_at
    again = promote_version(version)
    assert again.is_current and again.promoted_at == stamp


def test_a_new_version_must_beat_the_current_f1_macro(project):
    promote_version(_version(project, 0.5))
    assert not beats_current(_version(project, 0.5))
    assert not beats_current(_version(project, 0.4))
    assert beats_current(_version(project, 0.51))


def test_auto_promotion_needs_the_project_setting(project):
    promote_version(_version(project, 0.5))
    better = _version(project, 0.9)
    assert maybe_auto_promote(better) is False
    project.auto_promote = True
    project.save()
    worse = _version(project, 0.1)
    assert maybe_auto_promote(worse) is False
    assert maybe_auto_promote(better) is True
    assert ModelVersion.objects.get(is_current=True) == better


def test_comparison_rows_put_metrics_side_by_side(project):
    version = _version(project, 0.5)
    [row] = comparison_rows([version], ["HS", "TR", "AG"])
    assert row["f1_macro"] == 0.5 and row["roc_auc_macro"] == 0.7
    assert row["per_class_f1"] == [0.1, None, 0.3]
    assert (row["n_train"], row["n_validation"]) == (16, 4)
