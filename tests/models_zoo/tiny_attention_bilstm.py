"""Tiny case for the contract test: a small AT-BiLSTM with its vocabulary built on the fly."""
from __future__ import annotations

from pathlib import Path

from models_zoo.backends.attention_bilstm import AttentionBiLSTMBackend
from models_zoo.backends.base import Item
from tests.models_zoo.tiny_hf import DEFAULT_LABELS, synthetic_items

TINY_CONFIG = {"embedding_dim": 16, "hidden_size": 16, "num_layers": 2, "attention_dim": 16,
               "epochs": 8, "batch_size": 16, "learning_rate": 5e-3, "device": "cpu", "dropout": 0.1}


def make_case(tmp_path: Path, task_type: str = "multilabel", **overrides: object
              ) -> tuple[AttentionBiLSTMBackend, list[Item], list[Item], list[Item]]:
    labels = DEFAULT_LABELS[:1] if task_type == "binary" else DEFAULT_LABELS
    backend = AttentionBiLSTMBackend(labels, task_type, {**TINY_CONFIG, **overrides})
    return (backend, synthetic_items(120, task_type, labels, seed=1),
            synthetic_items(40, task_type, labels, seed=2), synthetic_items(20, task_type, labels, seed=3))
