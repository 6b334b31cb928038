"""`attention_bilstm`: seed 004's AT-BiLSTM (../shared/seeds/004_66f580f1de4f5b2c.txt).

An embedding layer (optionally initialised from a GloVe / word2vec text file, as the paper
initialises it from FastText vectors), stacked bidirectional LSTMs, an additive attention layer
and a dense output layer. Predictions carry the attention weight of every token, the paper's
interpretability argument, for the annotation UI:
`extras = {"attention": [{"token": str, "weight": float}, ...]}`.

Its tokenizer and vocabulary are built from the training texts and saved as JSON; weights are
safetensors.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from pydantic import Field

from models_zoo.artifacts import read_manifest, write_manifest
from models_zoo.backends import _classify as C
from models_zoo.backends._bilstm_net import (
    UNK,
    AttentionBiLSTM,
    build_vocab,
    read_word_vectors,
    tokenize,
)
from models_zoo.backends._buckets import map_bucketed
from models_zoo.backends._torch_utils import (
    WEIGHTS_FILE,
    autocast,
    load_state_dict,
    pick_device,
    save_state_dict,
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
from models_zoo.model_roots import resolve_model

VOCAB_FILE = "vocab.json"


class AttentionBiLSTMConfig(ClassifierConfig):
    model_path_fields: ClassVar[dict[str, str]] = {"word_vectors": "file"}
    word_vectors: str | None = Field(
        None, description="GloVe / word2vec text file to initialise the embedding layer (optional); "
        "its vector width must equal embedding_dim.",
    )
    freeze_embeddings: bool = Field(False, description="Keep the initial word vectors fixed.")
    embedding_dim: int = Field(300, ge=2, le=2048, description="Word vector width (seed 004: 300).")
    hidden_size: int = Field(128, ge=2, le=4096, description="LSTM units per direction.")
    num_layers: int = Field(2, ge=1, le=6, description="Stacked BiLSTM layers.")
    attention_dim: int = Field(128, ge=2, le=4096, description="Width of the additive attention projection.")
    dropout: float = Field(0.3, ge=0, lt=1, description="Dropout on embeddings, between layers and before the output.")
    max_vocab_size: int = Field(30000, ge=10, le=5_000_000, description="Largest vocabulary kept from the training texts.")
    min_freq: int = Field(1, ge=1, le=1_000_000, description="Minimum training-set count for a word to enter the vocabulary.")
    lowercase: bool = Field(True, description="Lower-case tokens before the vocabulary lookup.")
    max_tokens: int = Field(64, ge=1, le=1024, description="Tokens kept per text.")
    epochs: int = Field(10, ge=1, le=200, description="Maximum training epochs (seed 004: 10).")
    batch_size: int = Field(32, ge=1, le=1024, description="Training batch size.")
    eval_batch_size: int = Field(256, ge=1, le=4096, description="Batch size for validation and prediction.")
    learning_rate: float = Field(1e-3, gt=0, description="Adam learning rate.")
    early_stopping_patience: int = Field(3, ge=1, le=1000, description="Epochs without improvement before stopping.")
    select_best_by: Literal["roc_auc", "val_loss"] = Field(
        "roc_auc", description="Keep the epoch with the best validation ROC-AUC macro, or with the "
        "lowest validation loss (the paper's choice).",
    )
    fp16: bool = Field(True, description="Mixed fp16 autocast on CUDA (ignored on CPU).")
    device: str = Field("auto", description='"auto" (CUDA when present), "cpu" or "cuda".')


class AttentionBiLSTMBackend(Backend):
    """AT-BiLSTM text classifier with per-token attention weights."""

    name: ClassVar[str] = "attention_bilstm"
    task_types: ClassVar[tuple[str, ...]] = ("multilabel", "singlelabel", "binary", "multimodal-multilabel")
    Config: ClassVar[type[BackendConfig]] = AttentionBiLSTMConfig
    config: AttentionBiLSTMConfig

    def __init__(self, labels: Sequence[str], task_type: str,
                 config: BackendConfig | dict[str, Any] | None = None) -> None:
        super().__init__(labels, task_type, config)
        C.check_labels_for_task(self.labels, task_type)
        self.device = pick_device(self.config.device)
        self.vocab: list[str] = []
        self._index: dict[str, int] = {}
        self.network: AttentionBiLSTM | None = None

    # --- text -> ids --------------------------------------------------------------------
    def _tokens(self, text: str) -> list[str]:
        return tokenize(text, lowercase=False)[: self.config.max_tokens]

    def _ids(self, tokens: list[str]) -> list[int]:
        unk = self._index[UNK]
        if not tokens:
            return [unk]  # an empty text still needs one step for the LSTM
        lookup = (lambda t: t.lower()) if self.config.lowercase else (lambda t: t)
        return [self._index.get(lookup(t), unk) for t in tokens]

    def _batch_tensors(self, token_lists: Sequence[list[str]]) -> tuple[torch.Tensor, torch.Tensor]:
        ids = [self._ids(tokens) for tokens in token_lists]
        lengths = torch.tensor([len(row) for row in ids], dtype=torch.long)
        padded = torch.zeros((len(ids), int(lengths.max())), dtype=torch.long)
        for r, row in enumerate(ids):
            padded[r, : len(row)] = torch.tensor(row, dtype=torch.long)
        return padded.to(self.device), lengths.to(self.device)

    def _build_network(self) -> AttentionBiLSTM:
        cfg = self.config
        return AttentionBiLSTM(len(self.vocab), cfg.embedding_dim, cfg.hidden_size, cfg.num_layers,
                               cfg.attention_dim, len(self.labels), cfg.dropout).to(self.device)

    def _forward(self, token_lists: Sequence[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, attention weights padded to the longest text) for one batch."""
        assert self.network is not None
        ids, lengths = self._batch_tensors(token_lists)
        with autocast(self.device, self.config.fp16):
            logits, weights = self.network(ids, lengths)
        logits = logits.float()
        probs = torch.softmax(logits, -1) if self.task_type == "singlelabel" else torch.sigmoid(logits)
        return probs.cpu().numpy().astype(np.float64), weights.float().cpu().numpy()

    def _score(self, token_lists: Sequence[list[str]]) -> tuple[np.ndarray, list[np.ndarray]]:
        assert self.network is not None
        self.network.eval()
        def run(chunk: list[list[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
            probs, weights = self._forward(chunk)
            return [(probs[r], weights[r, : max(1, len(tokens))]) for r, tokens in enumerate(chunk)]

        token_lists = list(token_lists)
        with torch.inference_mode():
            # Length-sorted batches (less padding), results restored to input order.
            rows = map_bucketed(token_lists, [len(t) for t in token_lists], self.config.eval_batch_size, run)
        if not rows:
            return np.zeros((0, len(self.labels))), []
        return np.stack([r[0] for r in rows]), [r[1] for r in rows]

    # --- training -----------------------------------------------------------------------
    def fit(self, train: Sequence[Item], validation: Sequence[Item],
            progress: ProgressCallback | None = None) -> FitReport:
        C.check_splits(train, validation)
        cfg = self.config
        y_train = C.gold_matrix(train, self.labels, self.task_type, "train")
        y_val = C.gold_matrix(validation, self.labels, self.task_type, "validation")
        generator = seed_everything(cfg.seed)
        train_tokens = [self._tokens(item.text) for item in train]
        val_tokens = [self._tokens(item.text) for item in validation]
        fold = (lambda ts: [t.lower() for t in ts]) if cfg.lowercase else (lambda ts: ts)
        self.vocab = build_vocab((fold(ts) for ts in train_tokens), cfg.max_vocab_size, cfg.min_freq)
        self._index = {token: i for i, token in enumerate(self.vocab)}
        self.network = self._build_network()
        found = None
        if cfg.word_vectors:
            path = resolve_model(cfg.word_vectors, "file")  # only files under the model roots
            matrix, found = read_word_vectors(path, self.vocab, cfg.embedding_dim)
            self.network.embedding.weight.data.copy_(torch.from_numpy(matrix))
        self.network.embedding.weight.requires_grad_(not (cfg.word_vectors and cfg.freeze_embeddings))

        targets = torch.tensor(y_train, dtype=torch.float32)
        if self.task_type == "singlelabel":
            loss_fn: torch.nn.Module = torch.nn.CrossEntropyLoss()
            targets = targets.argmax(1)
        else:
            loss_fn = torch.nn.BCEWithLogitsLoss()
        optimizer = torch.optim.Adam([p for p in self.network.parameters() if p.requires_grad],
                                     lr=cfg.learning_rate)

        def batch_loss(indices: list[int]) -> torch.Tensor:
            assert self.network is not None
            ids, lengths = self._batch_tensors([train_tokens[i] for i in indices])
            logits, _ = self.network(ids, lengths)
            return loss_fn(logits.float(), targets[indices].to(self.device))

        def evaluate() -> tuple[np.ndarray, tuple[float, float]]:
            scores, _ = self._score(val_tokens)
            return scores, C.epoch_criterion(y_val, scores, self.labels, self.task_type, cfg.select_best_by)

        result = run_epochs(
            model=self.network, optimizer=optimizer, scheduler=None,
            epoch_batches=lambda _epoch: shuffled_batches(len(train), cfg.batch_size, generator),
            batch_loss=batch_loss, evaluate=evaluate, epochs=cfg.epochs,
            patience=cfg.early_stopping_patience, device=self.device, fp16=cfg.fp16,
            max_grad_norm=5.0, progress=progress,
        )
        self.thresholds, self.metrics = C.calibrate_for(self.config, y_val, result.best_scores, self.labels,
                                                                self.task_type)
        self.metrics.update(best_epoch=result.best_epoch, history=result.history,
                            vocab_size=len(self.vocab), word_vectors_found=found)
        return FitReport(metrics=self.metrics, thresholds=self.thresholds, best_epoch=result.best_epoch)

    # --- prediction ---------------------------------------------------------------------
    def predict(self, inputs: Sequence[Item]) -> list[ItemPrediction]:
        if self.network is None:
            raise BackendError("attention_bilstm is not fitted: call fit() or load() first")
        token_lists = [self._tokens(item.text) for item in inputs]
        scores, attention = self._score(token_lists)
        predictions = C.to_predictions(scores, self.labels, self.task_type, self.thresholds)
        for prediction, tokens, weights in zip(predictions, token_lists, attention, strict=True):
            prediction.extras["attention"] = [
                {"token": token, "weight": float(weight)} for token, weight in zip(tokens, weights, strict=False)
            ]
        return predictions

    # --- artifacts ----------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        if self.network is None:
            raise BackendError("attention_bilstm is not fitted: nothing to save")
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        save_state_dict(self.network, target / WEIGHTS_FILE)
        (target / VOCAB_FILE).write_text(json.dumps(self.vocab, ensure_ascii=False))
        write_manifest(target, self, weights_file=WEIGHTS_FILE, vocab_file=VOCAB_FILE,
                       vocab_size=len(self.vocab))

    @classmethod
    def load(cls, directory: str | Path) -> AttentionBiLSTMBackend:
        source = Path(directory)
        manifest = read_manifest(source)
        if manifest["backend"] != cls.name:
            raise BackendError(f"{source}: artifact is for backend {manifest['backend']!r}, not {cls.name!r}")
        backend = cls(manifest["labels"], manifest["task_type"], manifest["config"])
        backend.thresholds = {k: float(v) for k, v in manifest.get("thresholds", {}).items()}
        backend.metrics = manifest.get("metrics", {})
        vocab_path = source / manifest.get("vocab_file", VOCAB_FILE)
        if not vocab_path.is_file():
            raise FileNotFoundError(f"{vocab_path}: vocabulary is missing")
        backend.vocab = json.loads(vocab_path.read_text())
        backend._index = {token: i for i, token in enumerate(backend.vocab)}
        backend.network = backend._build_network()
        backend.network.load_state_dict(load_state_dict(source / manifest.get("weights_file", WEIGHTS_FILE),
                                                        backend.device))
        backend.network.eval()
        return backend
