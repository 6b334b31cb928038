"""The backend contract, run on every built-in backend with a tiny in-process model:
fit -> predict -> save -> load (through the registry) -> identical predictions.

Each backend NAME has a helper module `tests.models_zoo.tiny_NAME` exposing
`make_case(tmp_path) -> (backend, train_items, validation_items, predict_items)`. A missing
helper is a failure, not a skip: every registered backend must join this test.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest

from models_zoo.artifacts import load_backend
from models_zoo.backends.base import SPAN_TASK_TYPES, Backend
from models_zoo.registry import BUILTIN_BACKENDS

CLASSIFIER_METRICS = ("roc_auc_macro", "f1_macro", "f1_micro", "per_class")


def _case(name: str, tmp_path: Path):
    module_name = f"tests.models_zoo.tiny_{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        pytest.fail(f"backend {name!r} has no contract helper: create {module_name.replace('.', '/')}.py "
                    "with make_case(tmp_path)")
    return module.make_case(tmp_path)


def _assert_same_predictions(before, after) -> None:
    assert len(before) == len(after)
    for i, (a, b) in enumerate(zip(before, after, strict=True)):
        assert a.scores.keys() == b.scores.keys(), f"item {i}"
        np.testing.assert_allclose(
            [a.scores[k] for k in a.scores], [b.scores[k] for k in a.scores], rtol=1e-5, atol=1e-6,
            err_msg=f"item {i}: scores changed after save/load",
        )
        assert a.labels == b.labels, f"item {i}: labels changed after save/load"
        assert a.spans == b.spans, f"item {i}: spans changed after save/load"
        assert a.thresholds == b.thresholds, f"item {i}: thresholds changed after save/load"


@pytest.mark.parametrize("name", sorted(BUILTIN_BACKENDS))
def test_it_round_trips_fit_predict_save_load(name: str, tmp_path: Path) -> None:
    backend, train, validation, to_predict = _case(name, tmp_path)
    assert isinstance(backend, Backend)
    assert backend.name == name

    report = backend.fit(train, validation)
    before = backend.predict(to_predict)
    assert len(before) == len(to_predict)

    artifact = tmp_path / "artifact"
    backend.save(artifact)
    manifest = json.loads((artifact / "manifest.json").read_text())
    for key in ("backend", "config", "labels", "thresholds", "metrics", "library_versions"):
        assert key in manifest, f"manifest.json lacks {key!r}"
    assert manifest["backend"] == name
    assert manifest["labels"] == backend.labels
    pickles = [p for p in artifact.rglob("*") if p.suffix in {".pkl", ".pickle", ".joblib"}]
    assert pickles == [], f"pickle files in the artifact: {pickles}"

    if backend.task_type in SPAN_TASK_TYPES:
        assert any("f1" in key for key in report.metrics), report.metrics
    else:
        for key in CLASSIFIER_METRICS:
            assert key in report.metrics, f"metrics lack {key!r}"
        assert set(report.thresholds) == set(backend.labels)
        assert all(p.thresholds == report.thresholds for p in before)

    loaded = load_backend(artifact)
    assert type(loaded) is type(backend)
    assert loaded.thresholds == backend.thresholds
    _assert_same_predictions(before, loaded.predict(to_predict))
