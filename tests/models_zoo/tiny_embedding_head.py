"""Tiny case for the contract test: embedding_head on the in-process tiny BERT encoder."""
from __future__ import annotations

from pathlib import Path

from models_zoo.backends.base import Item
from models_zoo.backends.embedding_head import EmbeddingHeadBackend
from tests.models_zoo.tiny_hf import DEFAULT_LABELS, synthetic_items, tiny_bert_dir


def make_case(tmp_path: Path, task_type: str = "multilabel", head: str = "logistic_regression"
              ) -> tuple[EmbeddingHeadBackend, list[Item], list[Item], list[Item]]:
    labels = DEFAULT_LABELS[:1] if task_type == "binary" else DEFAULT_LABELS
    backend = EmbeddingHeadBackend(
        labels, task_type,
        {"encoder": str(tiny_bert_dir()), "head": head, "n_estimators": 25, "device": "cpu",
         "embed_batch_size": 16},
    )
    train = synthetic_items(80, task_type, labels, seed=1)
    validation = synthetic_items(40, task_type, labels, seed=2)
    predict = synthetic_items(30, task_type, labels, seed=3)
    return backend, train, validation, predict
