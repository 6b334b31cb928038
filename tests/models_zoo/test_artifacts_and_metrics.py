"""Artifacts (manifest + registry lookup) and the shared metrics / threshold rules."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models_zoo.artifacts import load_backend, read_manifest, write_manifest
from models_zoo.backends import _classify as C
from models_zoo.backends.base import BackendError
from models_zoo.backends.embedding_head import EmbeddingHeadBackend
from models_zoo.metrics import calibrate_thresholds, classification_metrics
from models_zoo.registry import UnknownBackend


def _fitted_head() -> EmbeddingHeadBackend:
    backend = EmbeddingHeadBackend(["A", "B"], "multilabel")
    backend._coef, backend._intercept = np.eye(2, 4), np.zeros(2)
    backend.thresholds = {"A": 0.3, "B": 0.7}
    return backend


def test_manifest_records_backend_config_labels_and_versions(tmp_path: Path) -> None:
    _fitted_head().save(tmp_path)
    manifest = read_manifest(tmp_path)
    assert manifest["backend"] == "embedding_head"
    assert manifest["labels"] == ["A", "B"]
    assert manifest["thresholds"] == {"A": 0.3, "B": 0.7}
    assert {"python", "numpy", "scikit-learn", "safetensors"} <= set(manifest["library_versions"])


def test_a_directory_without_manifest_is_not_an_artifact(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no manifest.json"):
        load_backend(tmp_path)


def test_the_manifest_names_a_registry_entry_never_a_class_path(tmp_path: Path) -> None:
    backend = _fitted_head()
    write_manifest(tmp_path, backend)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["backend"] = "os.system"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UnknownBackend, match="valid backends"):
        load_backend(tmp_path)


def test_loading_another_backends_artifact_is_refused(tmp_path: Path) -> None:
    _fitted_head().save(tmp_path)
    from models_zoo.backends.attention_bilstm import AttentionBiLSTMBackend

    with pytest.raises(BackendError, match="is for backend 'embedding_head'"):
        AttentionBiLSTMBackend.load(tmp_path)


def test_thresholds_are_calibrated_per_class_on_validation() -> None:
    y = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    scores = np.array([[0.32, 0.1], [0.35, 0.2], [0.1, 0.9], [0.05, 0.6]])
    thresholds = calibrate_thresholds(y, scores, ["A", "B"])
    assert thresholds["A"] <= 0.3 and thresholds["B"] > 0.6
    predictions = C.to_predictions(scores, ["A", "B"], "multilabel", thresholds)
    assert [p.labels for p in predictions] == [["A"], ["A"], ["B"], []]
    assert predictions[0].thresholds == thresholds


def test_single_label_decides_by_argmax_and_metrics_cover_every_class() -> None:
    y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    scores = np.array([[0.5, 0.3, 0.2], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    thresholds, metrics = C.calibrate_and_measure(y, scores, ["A", "B", "C"], "singlelabel")
    assert metrics["f1_macro"] == 1.0 and metrics["f1_micro"] == 1.0
    assert metrics["roc_auc_macro"] == 1.0
    assert set(metrics["per_class"]["C"]) == {"precision", "recall", "f1", "support"}
    assert [p.labels for p in C.to_predictions(scores, ["A", "B", "C"], "singlelabel", thresholds)] == [
        ["A"], ["B"], ["C"]]
    assert classification_metrics(y, scores, y, ["A", "B", "C"])["n"] == 3


def test_binary_metrics_describe_the_positive_label() -> None:
    y = np.array([[1], [0], [0], [0]])
    scores = np.array([[0.9], [0.8], [0.1], [0.2]])
    _, metrics = C.calibrate_and_measure(y, scores, ["HS"], "binary")
    # Threshold 0.85 separates perfectly; the positive class has support 1, not 3.
    assert metrics["per_class"]["HS"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    y_pred = np.array([[1], [1], [0], [0]])
    measured = C.measure(y, scores, y_pred, ["HS"])
    assert measured["per_class"]["HS"]["precision"] == 0.5
    assert measured["f1_macro"] == pytest.approx(2 / 3)
