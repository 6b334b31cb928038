"""attention_bilstm (seed 004 AT-BiLSTM): learns trigger words, attends to them, loads word
vectors from a text file, and names the bad line of a malformed one."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models_zoo.backends._bilstm_net import build_vocab, read_word_vectors, tokenize
from models_zoo.backends.attention_bilstm import AttentionBiLSTMBackend
from models_zoo.backends.base import BackendError, Item
from tests.models_zoo.tiny_attention_bilstm import TINY_CONFIG
from tests.models_zoo.tiny_hf import TRIGGERS, synthetic_items

LABELS = ["HS", "TR", "AG"]


def _backend(task_type: str = "multilabel", labels=LABELS, **config) -> AttentionBiLSTMBackend:
    return AttentionBiLSTMBackend(labels, task_type, {**TINY_CONFIG, **config})


def test_tokenizer_keeps_hashtags_and_masks_urls_and_mentions() -> None:
    assert tokenize("RT @bob: Floods in #Calgary!! http://t.co/x don't", lowercase=True) == [
        "rt", "<user>", ":", "floods", "in", "#calgary", "!", "!", "<url>", "don't",
    ]
    assert build_vocab([["b", "a", "b"], ["c"]], max_size=3, min_freq=1) == ["<pad>", "<unk>", "b"]


def test_it_learns_and_attends_to_the_trigger_word() -> None:
    backend = _backend("binary", labels=["HS"], epochs=15)
    report = backend.fit(synthetic_items(200, "binary", ["HS"], seed=1),
                         synthetic_items(60, "binary", ["HS"], seed=2))
    assert report.metrics["roc_auc_macro"] > 0.95
    positives = [i for i in synthetic_items(40, "binary", ["HS"], seed=3) if i.labels]
    hits = 0
    for prediction in backend.predict(positives):
        attention = prediction.extras["attention"]
        assert sum(a["weight"] for a in attention) == pytest.approx(1.0, abs=1e-5)
        top = max(attention, key=lambda a: a["weight"])["token"]
        hits += top in TRIGGERS[0]
    # Chance is about 1/6 (sentences have 4-8 tokens); the BiLSTM states mix neighbours, so the
    # top weight can sit next to the trigger, but most of the time it is the trigger itself.
    assert hits / len(positives) > 0.5


def test_multilabel_and_singlelabel_learn() -> None:
    multi = _backend("multilabel", epochs=12).fit(synthetic_items(200, seed=1), synthetic_items(60, seed=2))
    assert multi.metrics["roc_auc_macro"] > 0.9
    single = _backend("singlelabel", epochs=12).fit(synthetic_items(150, "singlelabel", seed=1),
                                                    synthetic_items(60, "singlelabel", seed=2))
    assert single.metrics["f1_macro"] > 0.8


def test_predictions_do_not_depend_on_batching() -> None:
    backend = _backend(epochs=2)
    backend.fit(synthetic_items(40, seed=1), synthetic_items(20, seed=2))
    items = synthetic_items(30, seed=3) + [Item(""), Item("zzz unseen words only")]
    together = backend.predict(items)
    backend.config.eval_batch_size = 1
    one_by_one = backend.predict(items)
    for a, b in zip(together, one_by_one, strict=True):
        np.testing.assert_allclose(list(a.scores.values()), list(b.scores.values()), atol=1e-6)
    assert together[-2].extras["attention"] == []


def test_embedding_layer_starts_from_a_word_vector_file(tmp_path: Path) -> None:
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("2 16\n" + "hate " + " ".join(["0.5"] * 16) + "\n" + "you " + " ".join(["-0.25"] * 16) + "\n")
    backend = _backend(word_vectors=str(vectors), freeze_embeddings=True, epochs=1)
    report = backend.fit(synthetic_items(30, seed=1), synthetic_items(12, seed=2))
    assert report.metrics["word_vectors_found"] == 2
    weights = backend.network.embedding.weight.detach().numpy()
    np.testing.assert_allclose(weights[backend.vocab.index("hate")], 0.5)
    np.testing.assert_allclose(weights[backend.vocab.index("you")], -0.25)


def test_a_malformed_word_vector_file_names_the_line(tmp_path: Path) -> None:
    vectors = tmp_path / "glove.txt"
    vectors.write_text("hate 0.1 0.2\nyou 0.1\n")
    with pytest.raises(BackendError, match=r"glove.txt, line 2: vector has 1 values, expected 2"):
        read_word_vectors(vectors, ["<pad>", "<unk>", "hate", "you"], dim=2)
    with pytest.raises(BackendError, match="does not exist"):
        read_word_vectors(tmp_path / "missing.txt", ["<pad>"], dim=2)


def test_artifact_holds_safetensors_and_a_json_vocabulary(tmp_path: Path) -> None:
    backend = _backend(epochs=1)
    backend.fit(synthetic_items(30, seed=1), synthetic_items(12, seed=2))
    backend.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "vocab.json", "weights.safetensors"]


def test_it_can_select_the_epoch_by_validation_loss() -> None:
    backend = _backend(epochs=4, select_best_by="val_loss", early_stopping_patience=4)
    report = backend.fit(synthetic_items(60, seed=1), synthetic_items(20, seed=2))
    history = report.metrics["history"]
    assert report.best_epoch == min(history, key=lambda h: h["val_loss"])["epoch"]


def test_it_rejects_unfitted_use() -> None:
    with pytest.raises(BackendError, match="not fitted"):
        _backend().predict([Item("x")])
