"""Tiny case for the contract test: transformer_classifier fine-tuning the in-process tiny BERT."""
from __future__ import annotations

from pathlib import Path

from models_zoo.backends.base import Item
from models_zoo.backends.transformer_classifier import TransformerClassifierBackend
from tests.models_zoo.tiny_hf import DEFAULT_LABELS, synthetic_items, tiny_bert_dir

# A random 2-layer BERT needs a larger step than the 5e-5 default to learn in a few epochs.
TINY_CONFIG = {"epochs": 3, "batch_size": 16, "learning_rate": 1e-3, "device": "cpu"}


def make_case(tmp_path: Path, task_type: str = "multilabel"
              ) -> tuple[TransformerClassifierBackend, list[Item], list[Item], list[Item]]:
    labels = DEFAULT_LABELS[:1] if task_type == "binary" else DEFAULT_LABELS
    backend = TransformerClassifierBackend(labels, task_type, {"model": str(tiny_bert_dir()), **TINY_CONFIG})
    return (backend, synthetic_items(64, task_type, labels, seed=1),
            synthetic_items(32, task_type, labels, seed=2), synthetic_items(20, task_type, labels, seed=3))
