"""Learning curve and stopping hint of a project's model versions.

- Learning curve: each version's validation F1 (macro and per label) against the number of
  labelled examples that trained it (`data_snapshot.counts.examples`, recorded by training).
- Stopping hint (models_zoo.active_learning.stopping, Bloodgood and Vijay-Shanker 2009): every
  new version predicts the project's fixed stop set right after training (`record_stop_set`,
  stored as ordinary Prediction rows, which a later promotion's predict-all then skips), and
  the page shows Cohen's kappa between consecutive versions' decisions on it. The stop set is
  the STOP_SET_SIZE examples with the lowest random `queue_key`: a fixed random sample that
  needs no labels and does not move as annotators label.
"""
from __future__ import annotations

import logging
from typing import Any

from annotator.models import Example, Project
from models_zoo.active_learning.stopping import decisions_kappa, stopping_hint
from models_zoo.models import ModelVersion, Prediction
from models_zoo.services.embedding_reuse import predict_with_store
from models_zoo.services.items import item_for_example
from models_zoo.services.prediction_rows import write_predictions

logger = logging.getLogger(__name__)

STOP_SET_SIZE = 400


def stop_set_ids(project_id: int, size: int = STOP_SET_SIZE) -> list[int]:
    return list(
        Example.objects.filter(project_id=project_id).order_by("queue_key", "id")
        .values_list("id", flat=True)[:size]
    )


def record_stop_set(version: ModelVersion, backend: Any) -> int:
    """Predict the stop set with the freshly trained `backend` into Prediction rows of
    `version`; returns how many were written. Never fails the run (logged instead)."""
    try:
        project = Project.objects.get(pk=version.project_id)
        ids = stop_set_ids(project.pk)
        done = set(Prediction.objects.filter(model_version=version, example_id__in=ids)
                   .values_list("example_id", flat=True))
        examples = list(Example.objects.filter(pk__in=[i for i in ids if i not in done]).order_by("id"))
        if not examples:
            return 0
        # Stored vectors where the project has them: a warm retrain stays free of encoding.
        predictions = predict_with_store(backend, project, [e.pk for e in examples],
                                         [item_for_example(e, project) for e in examples])
        return write_predictions(version.pk, [e.pk for e in examples], predictions, "keep")
    except Exception:  # the version stands without its stop-set predictions
        logger.exception("stop-set predictions of model version %s failed", version.pk)
        return 0


def curve_points(versions: list[ModelVersion], labels: list[str]) -> list[dict[str, Any]]:
    """[{version, labels, f1_macro, per_label: {label: f1}}] oldest first, versions with a
    recorded label count and a validation F1 only."""
    points = []
    for v in sorted(versions, key=lambda v: v.pk):
        counts = (v.data_snapshot or {}).get("counts", {})
        n = counts.get("examples") or counts.get("train")
        metrics = v.metrics or {}
        if n is None or metrics.get("f1_macro") is None:
            continue
        per_class = metrics.get("per_class") or {}
        points.append({
            "version": v.pk, "labels": int(n), "f1_macro": float(metrics["f1_macro"]),
            "per_label": {lab: (per_class.get(lab) or {}).get("f1") for lab in labels},
        })
    return points


def consecutive_kappas(project: Project, versions: list[ModelVersion]) -> list[dict[str, Any]]:
    """[{version, previous, kappa, n}] for consecutive versions (by id) that both predicted
    the stop set; kappa None when they share no stop-set example."""
    ordered = sorted(versions, key=lambda v: v.pk)
    if len(ordered) < 2:
        return []
    ids = stop_set_ids(project.pk)
    decided: dict[int, dict[int, list[str]]] = {v.pk: {} for v in ordered}
    rows = Prediction.objects.filter(model_version__in=ordered, example_id__in=ids)
    for version_id, example_id, labels in rows.values_list("model_version_id", "example_id", "labels"):
        decided[version_id][example_id] = list(labels)
    names = list(project.labels.values_list("name", flat=True))
    out = []
    for previous, current in zip(ordered, ordered[1:]):
        common = sorted(set(decided[previous.pk]) & set(decided[current.pk]))
        kappa = None
        if common:
            kappa = decisions_kappa([decided[previous.pk][i] for i in common],
                                    [decided[current.pk][i] for i in common], names,
                                    project.task_type)
        out.append({"version": current.pk, "previous": previous.pk, "kappa": kappa,
                    "n": len(common)})
    return out


def learning_context(project: Project, versions: list[ModelVersion], labels: list[str]
                     ) -> dict[str, Any]:
    """What the versions page shows under the table: curve points, kappas and the hint."""
    kappas = consecutive_kappas(project, versions)
    return {
        "curve": curve_points(versions, labels),
        "kappas": kappas,
        "stop_hint": stopping_hint([k["kappa"] for k in kappas]),
    }
