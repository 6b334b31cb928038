"""transformer_classifier: fine-tunes a (tiny) HF encoder, keeps the best epoch, reports
progress per step and stops when the callback cancels."""
from __future__ import annotations

from pathlib import Path

import pytest

from models_zoo.artifacts import read_manifest
from models_zoo.backends.base import BackendError, Item, ProgressEvent, TrainingCancelled
from models_zoo.backends.transformer_classifier import TransformerClassifierBackend
from models_zoo.model_roots import ModelRefused
from tests.models_zoo.tiny_hf import synthetic_items, tiny_bert_dir
from tests.models_zoo.tiny_transformer_classifier import TINY_CONFIG

LABELS = ["HS", "TR", "AG"]


def _backend(task_type: str, labels=LABELS, **config) -> TransformerClassifierBackend:
    return TransformerClassifierBackend(labels, task_type, {"model": str(tiny_bert_dir()), **TINY_CONFIG, **config})


def test_defaults_follow_the_seed_cards_and_the_group_hold_out_grid() -> None:
    config = TransformerClassifierBackend.Config()
    # lr, weight decay: seed 000; max length 64 (the card's 32 lost on the group hold-out grid,
    # docs/backends.md, "Measured defaults"); 4 epochs measured best.
    assert (config.learning_rate, config.weight_decay, config.max_length, config.epochs) == (5e-5, 0.1, 64, 4)
    assert config.model == "default"
    schema = TransformerClassifierBackend.Config.model_json_schema()
    assert all("description" in field for name, field in schema["properties"].items() if name != "seed")


def test_it_learns_single_label_from_trigger_words() -> None:
    backend = _backend("singlelabel", epochs=8, learning_rate=1e-3, early_stopping_patience=4)
    report = backend.fit(synthetic_items(200, "singlelabel", seed=1), synthetic_items(60, "singlelabel", seed=2))
    assert report.metrics["roc_auc_macro"] > 0.9
    assert report.metrics["f1_macro"] > 0.9
    predictions = backend.predict([Item("smash destroy kill the city")])
    assert predictions[0].labels == ["AG"]


def test_binary_has_one_sigmoid_output() -> None:
    backend = _backend("binary", labels=["HS"], epochs=6, learning_rate=1e-3)
    report = backend.fit(synthetic_items(160, "binary", ["HS"], seed=1), synthetic_items(40, "binary", ["HS"], seed=2))
    assert backend.model.config.num_labels == 1
    assert report.metrics["roc_auc_macro"] > 0.8
    assert set(backend.predict([Item("x")])[0].scores) == {"HS"}


def test_it_keeps_the_best_epoch_by_validation_roc_auc() -> None:
    backend = _backend("multilabel", epochs=4, early_stopping_patience=4)
    report = backend.fit(synthetic_items(48, seed=1), synthetic_items(24, seed=2))
    history = report.metrics["history"]
    best = max(history, key=lambda h: (h["val_roc_auc"], -h["val_loss"]))
    assert report.best_epoch == best["epoch"]
    assert report.metrics["roc_auc_macro"] == pytest.approx(best["val_roc_auc"])


def test_it_stops_early_when_validation_does_not_improve() -> None:
    # A vanishing lr leaves the weights as they are: the criterion cannot improve after epoch 1.
    backend = _backend("multilabel", epochs=10, learning_rate=1e-12, early_stopping_patience=2)
    report = backend.fit(synthetic_items(32, seed=1), synthetic_items(16, seed=2))
    assert len(report.metrics["history"]) == 3
    assert report.best_epoch == 1


def test_progress_is_reported_per_step_and_cancellation_stops_training(tmp_path: Path) -> None:
    events: list[ProgressEvent] = []
    backend = _backend("multilabel", epochs=2, batch_size=8)
    backend.fit(synthetic_items(32, seed=1), synthetic_items(16, seed=2), progress=events.append)
    assert [e.step for e in events] == list(range(1, 9))
    assert {e.epoch for e in events} == {1, 2}
    assert all(e.loss is not None and e.total_steps == 8 for e in events)

    def cancel_at_three(event: ProgressEvent) -> None:
        if event.step == 3:
            raise TrainingCancelled("stop")

    fresh = _backend("multilabel", epochs=2, batch_size=8)
    with pytest.raises(TrainingCancelled):
        fresh.fit(synthetic_items(32, seed=1), synthetic_items(16, seed=2), progress=cancel_at_three)


def test_artifact_holds_safetensors_and_tokenizer(tmp_path: Path) -> None:
    backend = _backend("multilabel", epochs=1)
    backend.fit(synthetic_items(24, seed=1), synthetic_items(12, seed=2))
    backend.save(tmp_path)
    files = {p.name for p in (tmp_path / "model").iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= files
    manifest = read_manifest(tmp_path)
    assert manifest["config"]["model"] == str(tiny_bert_dir())
    assert "torch" in manifest["library_versions"] and "transformers" in manifest["library_versions"]


def test_it_rejects_bad_input() -> None:
    with pytest.raises(BackendError, match="not fitted"):
        _backend("multilabel").predict([Item("x")])
    with pytest.raises(BackendError, match="single-label item needs exactly one gold label"):
        _backend("singlelabel").fit([Item("a", labels=["HS", "TR"])], [Item("b", labels=["HS"])])
    # Outside the model roots (models_zoo.model_roots): refused, without saying if it exists.
    with pytest.raises(ModelRefused, match="not a registered model name"):
        TransformerClassifierBackend(LABELS, "multilabel", {"model": "/nowhere/model"}).fit(
            [Item("a", labels=["HS"])], [Item("b", labels=["HS"])])


@pytest.mark.slow
def test_packaged_minilm_fine_tunes_on_multilabel() -> None:
    backend = TransformerClassifierBackend(LABELS, "multilabel", {"epochs": 3, "learning_rate": 1e-4})
    report = backend.fit(synthetic_items(200, seed=1), synthetic_items(60, seed=2))
    assert report.metrics["roc_auc_macro"] > 0.9
