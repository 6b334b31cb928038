"""`transformer_classifier`: fine-tune any Hugging Face encoder with a classification head.

Defaults follow seeds 000/001 (../shared/seeds/000_6439293a44f381f6.txt, 001_5f3a602ec41e8bc1.txt):
AdamW, lr 5e-5, cosine schedule, weight decay 0.1, max sequence length 32, mixed fp16 (CUDA only
here), keep the best epoch by validation ROC-AUC macro; early stopping as in seed 002. Multilabel
and binary use BCEWithLogits over independent sigmoid outputs, single-label a softmax with
cross-entropy. Artifacts: `save_pretrained` (safetensors) + tokenizer under `model/`, plus the
manifest.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import Field

from models_zoo.artifacts import read_manifest, write_manifest
from models_zoo.backends import _classify as C
from models_zoo.backends._buckets import rows_bucketed, text_length
from models_zoo.backends._encoders import DEFAULT_ENCODER, offline_env, resolve_model_path
from models_zoo.backends._torch_utils import (
    autocast,
    pick_device,
    seed_everything,
    shuffled_batches,
)
from models_zoo.backends._training import run_epochs
from models_zoo.backends.base import (
    Backend,
    BackendConfig,
    BackendError,
    ClassifierConfig,
    FitReport,
    Item,
    ItemPrediction,
    ProgressCallback,
)

MODEL_DIR = "model"


class TransformerClassifierConfig(ClassifierConfig):
    model_path_fields: ClassVar[dict[str, str]] = {"model": "directory"}
    model: str = Field(
        DEFAULT_ENCODER,
        description='Hugging Face checkpoint name or local directory; "default" is the packaged '
        "all-MiniLM-L6-v2 (a fresh classification head is added).",
    )
    # lr 5e-5 and 4 epochs (seed 000) and max length 64 (the card's 32) did best on the group
    # hold-out grid (bench/defaults_grid.py; docs/backends.md "Measured defaults").
    max_length: int = Field(64, ge=4, le=512, description="Tokens per text (seed 000: 32; 64 measured better).")
    epochs: int = Field(4, ge=1, le=100, description="Maximum training epochs.")
    batch_size: int = Field(32, ge=1, le=1024, description="Training batch size.")
    eval_batch_size: int = Field(64, ge=1, le=4096, description="Batch size for validation and prediction.")
    learning_rate: float = Field(5e-5, gt=0, description="AdamW learning rate (seed 000: 5e-5).")
    weight_decay: float = Field(0.1, ge=0, description="AdamW weight decay (seed 000: 0.1).")
    warmup_ratio: float = Field(0.0, ge=0, lt=1, description="Share of steps with linear warm-up before the cosine decay.")
    early_stopping_patience: int = Field(2, ge=1, le=1000, description="Epochs without a better validation ROC-AUC before stopping.")
    max_grad_norm: float = Field(1.0, ge=0, description="Gradient clipping norm (0 disables).")
    fp16: bool = Field(True, description="Mixed fp16 autocast on CUDA (ignored on CPU).")
    device: str = Field("auto", description='"auto" (CUDA when present), "cpu" or "cuda".')


class TransformerClassifierBackend(Backend):
    """Fine-tuned HF encoder + classification head (multilabel, binary or single-label)."""

    name: ClassVar[str] = "transformer_classifier"
    task_types: ClassVar[tuple[str, ...]] = ("multilabel", "singlelabel", "binary", "multimodal-multilabel")
    Config: ClassVar[type[BackendConfig]] = TransformerClassifierConfig
    config: TransformerClassifierConfig

    def __init__(self, labels: Sequence[str], task_type: str,
                 config: BackendConfig | dict[str, Any] | None = None) -> None:
        super().__init__(labels, task_type, config)
        C.check_labels_for_task(self.labels, task_type)
        self.model: Any = None
        self.tokenizer: Any = None
        self.device = pick_device(self.config.device)

    @property
    def num_outputs(self) -> int:
        return len(self.labels)

    def _problem_type(self) -> str:
        return "single_label_classification" if self.task_type == "singlelabel" else "multi_label_classification"

    def _load_pretrained(self, source: str, fresh_head: bool) -> None:
        offline_env()
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # "newly initialised head" warnings are expected here
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        kwargs: dict[str, Any] = {}
        if fresh_head:
            kwargs = {
                "num_labels": self.num_outputs,
                "id2label": dict(enumerate(self.labels)),
                "label2id": {name: i for i, name in enumerate(self.labels)},
                "problem_type": self._problem_type(),
                # A checkpoint fine-tuned on other labels keeps its encoder, gets a new head.
                "ignore_mismatched_sizes": True,
            }
        self.model = AutoModelForSequenceClassification.from_pretrained(source, **kwargs)
        self.model.to(self.device)

    def _tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        encoded = self.tokenizer(list(texts), truncation=True, max_length=self.config.max_length,
                                 padding=True, return_tensors="pt")
        return {key: value.to(self.device) for key, value in encoded.items()}

    def _logits(self, texts: Sequence[str]) -> torch.Tensor:
        with autocast(self.device, self.config.fp16):
            return self.model(**self._tokenize(texts)).logits.float()

    def _probabilities(self, logits: torch.Tensor) -> np.ndarray:
        if self.task_type == "singlelabel":
            return torch.softmax(logits, dim=-1).cpu().numpy().astype(np.float64)
        return torch.sigmoid(logits).cpu().numpy().astype(np.float64)

    def _score_texts(self, texts: Sequence[str]) -> np.ndarray:
        self.model.eval()
        texts = list(texts)
        with torch.inference_mode():
            # Length-sorted batches (less padding), rows restored to input order.
            return rows_bucketed(texts, [text_length(t) for t in texts], self.config.eval_batch_size,
                                 lambda chunk: self._probabilities(self._logits(chunk)),
                                 self.num_outputs)

    def fit(self, train: Sequence[Item], validation: Sequence[Item],
            progress: ProgressCallback | None = None) -> FitReport:
        from transformers import get_cosine_schedule_with_warmup

        C.check_splits(train, validation)
        cfg = self.config
        y_train = C.gold_matrix(train, self.labels, self.task_type, "train")
        y_val = C.gold_matrix(validation, self.labels, self.task_type, "validation")
        generator = seed_everything(cfg.seed)
        self._load_pretrained(resolve_model_path(cfg.model), fresh_head=True)
        texts = [item.text for item in train]
        val_texts = [item.text for item in validation]
        targets = torch.tensor(y_train, dtype=torch.float32)
        if self.task_type == "singlelabel":
            loss_fn: torch.nn.Module = torch.nn.CrossEntropyLoss()
            targets = targets.argmax(dim=1)
        else:
            loss_fn = torch.nn.BCEWithLogitsLoss()

        decay = [p for n, p in self.model.named_parameters() if not n.endswith("bias") and "LayerNorm" not in n]
        no_decay = [p for n, p in self.model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=cfg.learning_rate,
        )
        steps = -(-len(train) // cfg.batch_size) * cfg.epochs
        scheduler = get_cosine_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * steps), steps)

        def batch_loss(indices: list[int]) -> torch.Tensor:
            logits = self.model(**self._tokenize([texts[i] for i in indices])).logits.float()
            return loss_fn(logits, targets[indices].to(self.device))

        def evaluate() -> tuple[np.ndarray, tuple[float, float]]:
            scores = self._score_texts(val_texts)
            return scores, C.epoch_criterion(y_val, scores, self.labels, self.task_type)

        result = run_epochs(
            model=self.model, optimizer=optimizer, scheduler=scheduler,
            epoch_batches=lambda _epoch: shuffled_batches(len(train), cfg.batch_size, generator),
            batch_loss=batch_loss, evaluate=evaluate, epochs=cfg.epochs,
            patience=cfg.early_stopping_patience, device=self.device, fp16=cfg.fp16,
            max_grad_norm=cfg.max_grad_norm or None, progress=progress,
        )
        self.thresholds, self.metrics = C.calibrate_for(self.config, y_val, result.best_scores, self.labels,
                                                                self.task_type)
        self.metrics["best_epoch"] = result.best_epoch
        self.metrics["history"] = result.history
        return FitReport(metrics=self.metrics, thresholds=self.thresholds, best_epoch=result.best_epoch)

    def predict(self, inputs: Sequence[Item]) -> list[ItemPrediction]:
        if self.model is None:
            raise BackendError("transformer_classifier is not fitted: call fit() or load() first")
        scores = self._score_texts([item.text for item in inputs])
        return C.to_predictions(scores, self.labels, self.task_type, self.thresholds)

    def save(self, directory: str | Path) -> None:
        if self.model is None:
            raise BackendError("transformer_classifier is not fitted: nothing to save")
        target = Path(directory)
        self.model.save_pretrained(str(target / MODEL_DIR), safe_serialization=True)
        self.tokenizer.save_pretrained(str(target / MODEL_DIR))
        write_manifest(target, self, model_dir=MODEL_DIR)

    @classmethod
    def load(cls, directory: str | Path) -> TransformerClassifierBackend:
        source = Path(directory)
        manifest = read_manifest(source)
        if manifest["backend"] != cls.name:
            raise BackendError(f"{source}: artifact is for backend {manifest['backend']!r}, not {cls.name!r}")
        backend = cls(manifest["labels"], manifest["task_type"], manifest["config"])
        backend.thresholds = {k: float(v) for k, v in manifest.get("thresholds", {}).items()}
        backend.metrics = manifest.get("metrics", {})
        model_dir = source / MODEL_DIR
        if not (model_dir / "config.json").is_file():
            raise FileNotFoundError(f"{model_dir}: fine-tuned model files are missing")
        backend._load_pretrained(str(model_dir), fresh_head=False)
        backend.model.eval()
        return backend
