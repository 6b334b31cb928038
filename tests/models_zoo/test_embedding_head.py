"""embedding_head: learns from a frozen encoder, every task type, forest saved without pickle."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models_zoo.artifacts import load_backend, read_manifest
from models_zoo.backends.base import BackendError, Item, ProgressEvent
from models_zoo.backends.embedding_head import EmbeddingHeadBackend
from tests.models_zoo.tiny_hf import synthetic_items, tiny_bert_dir

LABELS = ["HS", "TR", "AG"]


def _backend(task_type: str = "multilabel", labels=LABELS, **config) -> EmbeddingHeadBackend:
    base = {"encoder": str(tiny_bert_dir()), "device": "cpu", "C": 100.0, "n_estimators": 40}
    return EmbeddingHeadBackend(labels, task_type, {**base, **config})


@pytest.mark.parametrize("task_type", ["multilabel", "singlelabel"])
def test_it_learns_word_dependent_labels(task_type: str) -> None:
    backend = _backend(task_type)
    report = backend.fit(synthetic_items(200, task_type, seed=1), synthetic_items(60, task_type, seed=2))
    assert report.metrics["roc_auc_macro"] > 0.8
    assert set(report.metrics["per_class"]) == set(LABELS)


def test_binary_treats_empty_labels_as_negative() -> None:
    backend = _backend("binary", labels=["HS"])
    report = backend.fit(synthetic_items(120, "binary", ["HS"], seed=1),
                         synthetic_items(40, "binary", ["HS"], seed=2))
    assert report.metrics["roc_auc_macro"] > 0.75
    predictions = backend.predict([Item("hate hate vermin disgusting"), Item("the city today")])
    assert list(predictions[0].scores) == ["HS"]
    assert predictions[0].scores["HS"] > predictions[1].scores["HS"]


def test_singlelabel_predicts_exactly_the_argmax() -> None:
    backend = _backend("singlelabel")
    backend.fit(synthetic_items(90, "singlelabel", seed=1), synthetic_items(30, "singlelabel", seed=2))
    for prediction in backend.predict(synthetic_items(20, "singlelabel", seed=3)):
        assert prediction.labels == [max(prediction.scores, key=prediction.scores.get)]
        assert sum(prediction.scores.values()) == pytest.approx(1.0)


def test_random_forest_arrays_reproduce_sklearn_probabilities(tmp_path: Path) -> None:
    from sklearn.ensemble import RandomForestClassifier

    from models_zoo.backends._forest import (
        forest_from_sklearn,
        forest_predict,
        load_forest,
        save_forest,
    )

    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 8)).astype(np.float32)
    y = np.stack([x[:, 0] > 0, x[:, 1] + x[:, 2] > 0.5, np.zeros(150, dtype=bool)], axis=1).astype(int)
    model = RandomForestClassifier(n_estimators=15, random_state=0).fit(x, y)
    forest = forest_from_sklearn(model, "multilabel", 3)
    save_forest(forest, tmp_path / "f.safetensors")
    ours = forest_predict(load_forest(tmp_path / "f.safetensors"), x[:40] + 0.01)
    theirs = model.predict_proba(x[:40] + 0.01)
    np.testing.assert_allclose(ours[:, 0], theirs[0][:, 1], atol=1e-12)
    np.testing.assert_allclose(ours[:, 1], theirs[1][:, 1], atol=1e-12)
    np.testing.assert_allclose(ours[:, 2], 0.0)  # only negatives seen: never positive


def test_random_forest_head_round_trips_without_pickle(tmp_path: Path) -> None:
    backend = _backend("singlelabel", head="random_forest")
    backend.fit(synthetic_items(60, "singlelabel", seed=1), synthetic_items(30, "singlelabel", seed=2))
    items = synthetic_items(15, "singlelabel", seed=3)
    backend.save(tmp_path)
    loaded = load_backend(tmp_path)
    assert [p.scores for p in loaded.predict(items)] == [p.scores for p in backend.predict(items)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["head.safetensors", "manifest.json"]


def test_default_encoder_is_stored_portably(tmp_path: Path) -> None:
    backend = EmbeddingHeadBackend(LABELS, "multilabel")
    backend._coef, backend._intercept = np.zeros((3, 4)), np.zeros(3)
    backend.save(tmp_path)
    assert read_manifest(tmp_path)["config"]["encoder"] == "default"


def test_encode_batches_texts_into_a_matrix() -> None:
    backend = _backend(embed_batch_size=2)
    vectors = backend.encode(["hate you", "the city", "rain water flood"])
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert backend.embed_batch_size == 2


def test_it_reports_progress_and_rejects_bad_input() -> None:
    backend = _backend()
    events: list[ProgressEvent] = []
    backend.fit(synthetic_items(30, seed=1), synthetic_items(12, seed=2), progress=events.append)
    assert events[-1].fraction == 1.0
    with pytest.raises(BackendError, match="train item 1: unknown label"):
        backend.fit([Item("a", labels=["HS"]), Item("b", labels=["XX"])], [Item("c", labels=["HS"])])
    with pytest.raises(BackendError, match="validation split is empty"):
        backend.fit([Item("a", labels=["HS"])], [])
    with pytest.raises(BackendError, match="exactly one label"):
        EmbeddingHeadBackend(["A", "B"], "binary")
    with pytest.raises(BackendError, match="not fitted"):
        _backend().predict([Item("x")])
    with pytest.raises(ValueError, match="head"):
        EmbeddingHeadBackend(LABELS, "multilabel", {"head": "svm"})


@pytest.mark.slow
def test_packaged_minilm_learns_hate_words() -> None:
    backend = EmbeddingHeadBackend(LABELS, "multilabel")
    report = backend.fit(synthetic_items(150, seed=1), synthetic_items(60, seed=2))
    assert report.metrics["roc_auc_macro"] > 0.9


def _event_data(n_per_event=40, events=("e1", "e2", "e3")):
    """Vectors whose positive/negative offset shifts by event (a new event scores differently)."""
    rng = np.random.default_rng(3)
    x, items = [], []
    for k, event in enumerate(events):
        y = rng.uniform(size=n_per_event) < 0.3
        v = rng.normal(size=(n_per_event, 4))
        v[:, 0] += np.where(y, 1.5, -1.5) + k
        x.append(v)
        items += [Item(text="", labels=["HS"] if flag else [], meta={"event": event}) for flag in y]
    return np.vstack(x), items


def test_group_cross_validation_scores_each_event_by_a_head_fitted_on_the_others():
    from models_zoo.thresholds import calibrate

    x, items = _event_data()
    backend = EmbeddingHeadBackend(["HS"], "binary", {"threshold_calibration": "group_cross_validation",
                                                      "threshold_objective": "f1_positive"})
    backend.fit_embeddings(x[:100], items[:100], x[100:], items[100:])
    report = backend.metrics["threshold_calibration"]
    # 100 training rows: e1 (40), e2 (40), e3 (20): three groups, leave-one-event-out.
    assert (report["method"], report["folds"], report["groups"], report["group_field"], report["note"]) == (
        "group_cross_validation", 3, 3, "event", "")
    y = np.array([[1] if it.labels else [0] for it in items[:100]])
    oof = np.zeros((100, 1))
    for lo, hi in ((0, 40), (40, 80), (80, 100)):
        head = EmbeddingHeadBackend(["HS"], "binary")
        rest = np.r_[0:lo, hi:100]
        head._fit_head(x[rest], y[rest])
        oof[lo:hi] = head._scores(x[lo:hi])
    expected, _ = calibrate(y, oof, ["HS"], "f1_positive")
    assert backend.thresholds == expected


def test_group_cross_validation_falls_back_with_a_note_and_the_config_is_checked():
    from pydantic import ValidationError

    x, items = _event_data()
    bare = [Item(text="", labels=it.labels) for it in items]  # no metadata: no groups
    backend = EmbeddingHeadBackend(["HS"], "binary", {"threshold_calibration": "group_cross_validation"})
    backend.fit_embeddings(x[:100], bare[:100], x[100:], bare[100:])
    report = backend.metrics["threshold_calibration"]
    assert (report["method"], report["groups"], report["folds"]) == ("group_cross_validation", 0, 5)
    assert "fell back to 5-fold stratified cross-validation" in report["note"]
    # The fallback is exactly stratified cross-validation's thresholds.
    plain = EmbeddingHeadBackend(["HS"], "binary", {"threshold_calibration": "cross_validation"})
    plain.fit_embeddings(x[:100], bare[:100], x[100:], bare[100:])
    assert backend.thresholds == plain.thresholds
    # Another group field: "site" is missing everywhere -> fallback too.
    other = EmbeddingHeadBackend(["HS"], "binary", {"threshold_calibration": "group_cross_validation",
                                                    "calibration_group_field": "site"})
    other.fit_embeddings(x[:100], items[:100], x[100:], items[100:])
    assert other.metrics["threshold_calibration"]["groups"] == 0
    with pytest.raises(ValidationError, match="calibration_group_field must name a metadata key"):
        EmbeddingHeadBackend(["HS"], "binary", {"calibration_group_field": "  "})
    with pytest.raises(ValidationError, match="'group_cross_validation'"):
        EmbeddingHeadBackend(["HS"], "binary", {"threshold_calibration": "by_event"})
