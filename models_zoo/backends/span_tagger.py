"""`span_tagger`: HF encoder (+ BiLSTM) + CRF tagging words with BIO, exposed as character spans.

Seed 003 (../shared/seeds/003_43c8cb6e46dbc9f4.txt): BERTweet-LSTM-CRF, LSTM hidden 128,
dropout 0.4, AdamW with a linear schedule and no warm-up, lr 2e-5 for the transformer, early
stopping when validation micro F1 has not improved for 4 epochs, @mentions / URLs mapped to
"@USER" / "HTTPURL" for BERTweet (here per word, so character offsets are untouched).
Words and the span <-> BIO mapping live in `_spans`; the network in `_span_net`.
Metrics are entity-level (seqeval), micro and per type.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import Field

from models_zoo.artifacts import read_manifest, write_manifest
from models_zoo.backends import _torch_utils as tu
from models_zoo.backends._buckets import map_bucketed, text_length
from models_zoo.backends._encoders import DEFAULT_ENCODER, offline_env, resolve_model_path
from models_zoo.backends._span_net import SpanTaggerNet, encode_words
from models_zoo.backends._spans import (
    OUTSIDE,
    Word,
    bio_tags,
    bio_to_spans,
    spans_to_bio,
    tokenize_words,
)
from models_zoo.backends.base import (
    Backend,
    BackendConfig,
    BackendError,
    FitReport,
    Item,
    ItemPrediction,
    ProgressCallback,
    ProgressEvent,
    shown_when,
)

HEAD_FILE = "head.safetensors"
ENCODER_DIR = "encoder"


class SpanTaggerConfig(BackendConfig):
    model_path_fields: ClassVar[dict[str, str]] = {"encoder": "directory"}
    encoder: str = Field(DEFAULT_ENCODER, description="HF encoder name or local directory; "
                         "'default' is the packaged all-MiniLM-L6-v2")
    use_lstm: bool = Field(True, description="BiLSTM between encoder and CRF (seed 003)")
    lstm_hidden: int = Field(128, ge=8, le=2048, description="LSTM hidden size per direction",
                             json_schema_extra=shown_when("use_lstm", True))
    dropout: float = Field(0.4, ge=0.0, lt=1.0, description="dropout around the LSTM (seed 003)")
    casing_dim: int = Field(16, ge=0, le=128, description="size of a word-casing embedding "
                            "joined to the encoder's word vectors (0: off); restores capitalisation "
                            "cues that uncased encoders such as MiniLM drop")
    placeholders: bool = Field(False, description="feed URL / @mention words to the encoder as "
                               "'HTTPURL' / '@USER' (BERTweet convention, seed 003)")
    max_length: int = Field(128, ge=8, le=512, description="max subwords per text; later words are tagged O")
    batch_size: int = Field(16, ge=1, le=512, description="training batch size")
    predict_batch_size: int = Field(64, ge=1, le=4096, description="batch size at prediction")
    epochs: int = Field(10, ge=1, le=200, description="maximum epochs")
    patience: int = Field(4, ge=1, le=100, description="early stopping: epochs without a better "
                          "validation micro F1 (seed 003)")
    lr_encoder: float = Field(2e-5, gt=0, description="learning rate of the encoder (seed 003)")
    lr_head: float = Field(1e-3, gt=0, description="learning rate of the LSTM, emissions and CRF")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay")
    freeze_encoder: bool = Field(False, description="train only the LSTM / CRF head")
    device: str = Field("auto", description="'auto' (CUDA when present), 'cpu' or 'cuda'")


class SpanTaggerBackend(Backend):
    """Span extraction over words with a CRF; predictions are character-offset spans."""

    name = "span_tagger"
    task_types = ("spans",)
    Config = SpanTaggerConfig
    config: SpanTaggerConfig

    def __init__(self, labels: Sequence[str], task_type: str = "spans",
                 config: BackendConfig | dict[str, Any] | None = None) -> None:
        super().__init__(labels, task_type, config)
        if any(not name.strip() for name in self.labels) or len(set(self.labels)) != len(self.labels):
            raise BackendError(f"span labels must be unique, non-empty entity types, got {self.labels}")
        self.tags = bio_tags(self.labels)
        self._tag_index = {tag: i for i, tag in enumerate(self.tags)}
        self.device = tu.pick_device(self.config.device)
        self.net: SpanTaggerNet | None = None
        self.tokenizer: Any = None

    # -- building ---------------------------------------------------------------------------
    def _build(self, source: str) -> None:
        from transformers import AutoModel, AutoTokenizer

        offline_env()
        tokenizer = AutoTokenizer.from_pretrained(source)
        # Slow tokenizers (BERTweet's) have no word alignment: encode_words goes word by word.
        if getattr(tokenizer, "is_fast", False) and getattr(tokenizer, "add_prefix_space", None) is False:
            # Byte-level BPE (RoBERTa, BERTweet-like) only accepts pre-split words this way.
            tokenizer = AutoTokenizer.from_pretrained(source, add_prefix_space=True)
        encoder = AutoModel.from_pretrained(source)
        c = self.config
        self.tokenizer = tokenizer
        self.net = SpanTaggerNet(encoder, len(self.tags), c.use_lstm, c.lstm_hidden, c.dropout,
                                 c.casing_dim)
        self.net.to(self.device)

    def _encoder_words(self, words: Sequence[Word]) -> list[str]:
        if not self.config.placeholders:
            return [w.text for w in words]
        out = []
        for w in words:
            if w.text.startswith(("http://", "https://", "www.")):
                out.append("HTTPURL")
            elif w.text.startswith("@") and len(w.text) > 1:
                out.append("@USER")
            else:
                out.append(w.text)
        return out

    # -- data -------------------------------------------------------------------------------
    def _gold_tags(self, items: Sequence[Item], split: str) -> list[list[str]]:
        known = set(self.labels)
        gold = []
        for i, item in enumerate(items):
            spans = item.spans or []
            for span in spans:
                if not {"start", "end", "label"} <= set(span):
                    raise BackendError(f"{split} item {i}: a span needs start, end and label, got {span}")
                if span["label"] not in known:
                    raise BackendError(f"{split} item {i}: span label {span['label']!r} is not one "
                                       f"of the project labels {self.labels}")
                if not (isinstance(span["start"], int) and isinstance(span["end"], int)):
                    raise BackendError(f"{split} item {i}: span offsets must be integers, got {span}")
            gold.append(spans_to_bio(tokenize_words(item.text), spans))
        return gold

    def _batch(self, items: Sequence[Item]) -> tuple[list[list[Word]], Any]:
        words = [tokenize_words(item.text) for item in items]
        batch = encode_words(self.tokenizer, [self._encoder_words(w) for w in words], self.config.max_length)
        return words, batch

    def _tag_tensor(self, batch: Any, gold: Sequence[Sequence[str]]) -> torch.Tensor:
        tags = torch.zeros(batch.word_mask.shape, dtype=torch.long)
        for b, kept in enumerate(batch.modelled):
            for w, word_i in enumerate(kept):
                tags[b, w] = self._tag_index[gold[b][word_i]]
        return tags

    # -- training ---------------------------------------------------------------------------
    def fit(self, train: Sequence[Item], validation: Sequence[Item],
            progress: ProgressCallback | None = None) -> FitReport:
        if not train:
            raise BackendError("the training split is empty")
        if not validation:
            raise BackendError("the validation split is empty: early stopping and metrics use it")
        c = self.config
        gold_train = self._gold_tags(train, "train")
        gold_val = self._gold_tags(validation, "validation")
        generator = tu.seed_everything(c.seed)
        self._build(resolve_model_path(c.encoder))
        assert self.net is not None
        encoder_params = list(self.net.encoder.parameters())
        for p in encoder_params:
            p.requires_grad_(not c.freeze_encoder)
        head_params = [p for n, p in self.net.named_parameters() if not n.startswith("encoder.")]
        groups = [{"params": head_params, "lr": c.lr_head}]
        if not c.freeze_encoder:
            groups.append({"params": encoder_params, "lr": c.lr_encoder})
        optimizer = torch.optim.AdamW(groups, weight_decay=c.weight_decay)
        steps_per_epoch = math.ceil(len(train) / c.batch_size)
        total = steps_per_epoch * c.epochs
        # Seed 003: linear decay, no warm-up.
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1.0 - s / total))
        scaler = tu.grad_scaler(self.device)

        best_f1, best_epoch, best_state, stale, step = -1.0, 0, None, 0, 0
        history = []
        for epoch in range(1, c.epochs + 1):
            self.net.train()
            running, batches = 0.0, 0
            if c.freeze_encoder:
                self.net.encoder.eval()  # a frozen encoder should not apply dropout either
            for index in tu.shuffled_batches(len(train), c.batch_size, generator):
                _, batch = self._batch([train[i] for i in index])
                tags = self._tag_tensor(batch, [gold_train[i] for i in index]).to(self.device)
                with tu.autocast(self.device):
                    loss = self.net.loss(batch.to(self.device), tags)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                step += 1
                running, batches = running + float(loss.detach()), batches + 1
                if progress is not None:
                    # May raise TrainingCancelled: nothing has been saved yet.
                    progress(ProgressEvent(step, total, epoch, float(loss.detach()),
                                           f"epoch {epoch}/{c.epochs}"))
            metrics = self._evaluate(validation, gold_val)
            history.append({"epoch": epoch, "f1_micro": metrics["f1_micro"],
                            "train_loss": running / max(1, batches)})
            if metrics["f1_micro"] > best_f1:
                best_f1, best_epoch, stale = metrics["f1_micro"], epoch, 0
                best_state = tu.copy_state_to_cpu(self.net)
            else:
                stale += 1
                if stale >= c.patience:
                    break
        assert best_state is not None
        self.net.load_state_dict(best_state)
        self.metrics = self._evaluate(validation, gold_val)
        self.metrics.update({"best_epoch": best_epoch, "history": history})
        self.thresholds = {}
        return FitReport(metrics=self.metrics, thresholds={}, best_epoch=best_epoch)

    def _evaluate(self, items: Sequence[Item], gold: list[list[str]]) -> dict[str, Any]:
        from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

        predicted = [self._word_tags(p, item) for p, item in zip(self._predict(items), items, strict=True)]
        report = classification_report(gold, predicted, output_dict=True, zero_division=0)
        per_class = {
            name: {
                "precision": float(report.get(name, {}).get("precision", 0.0)),
                "recall": float(report.get(name, {}).get("recall", 0.0)),
                "f1": float(report.get(name, {}).get("f1-score", 0.0)),
                "support": int(report.get(name, {}).get("support", 0)),
            }
            for name in self.labels
        }
        micro = float(f1_score(gold, predicted, average="micro", zero_division=0))
        present = [v["f1"] for v in per_class.values() if v["support"] > 0]
        return {
            "precision_micro": float(precision_score(gold, predicted, average="micro", zero_division=0)),
            "recall_micro": float(recall_score(gold, predicted, average="micro", zero_division=0)),
            "f1_micro": micro,
            # Macro over the entity types present in the gold split (absent ones have no F1).
            "f1_macro": float(np.mean(present)) if present else 0.0,
            "roc_auc_macro": None,
            "per_class": per_class,
            "n": len(items),
            "level": "entity (seqeval)",
        }

    @staticmethod
    def _word_tags(prediction: ItemPrediction, item: Item) -> list[str]:
        return spans_to_bio(tokenize_words(item.text), prediction.spans)

    # -- prediction -------------------------------------------------------------------------
    def predict(self, inputs: Sequence[Item]) -> list[ItemPrediction]:
        if self.net is None:
            raise BackendError("span_tagger: predict() before fit() or load()")
        return self._predict(inputs)

    def _predict(self, inputs: Sequence[Item]) -> list[ItemPrediction]:
        assert self.net is not None
        self.net.eval()
        def run(chunk: list[Item]) -> list[ItemPrediction]:
            words, batch = self._batch(chunk)
            batch = batch.to(self.device)
            with tu.autocast(self.device):
                emissions = self.net.emissions(batch)
            paths = self.net.decode(emissions, batch.word_mask)
            marginals = self.net.marginals(emissions, batch.word_mask).cpu().numpy()
            return [self._postprocess(item, words[b], batch.modelled[b], paths[b], marginals[b])
                    for b, item in enumerate(chunk)]

        items = list(inputs)
        with torch.inference_mode():
            # Length-sorted batches (less padding), predictions restored to input order.
            return map_bucketed(items, [text_length(item.text) for item in items],
                                self.config.predict_batch_size, run)

    def _postprocess(self, item: Item, words: list[Word], kept: list[int], path: list[int],
                     marginals: np.ndarray) -> ItemPrediction:
        tags = [OUTSIDE] * len(words)
        confidence = [1.0] * len(words)
        type_scores = dict.fromkeys(self.labels, 0.0)
        for w, word_i in enumerate(kept):
            tags[word_i] = self.tags[path[w]]
            confidence[word_i] = float(marginals[w, path[w]])
            for j, name in enumerate(self.labels):
                # P(word is inside an entity of this type) = P(B-x) + P(I-x).
                p = float(marginals[w, 1 + 2 * j] + marginals[w, 2 + 2 * j])
                type_scores[name] = max(type_scores[name], p)
        spans = bio_to_spans(item.text, words, tags, confidence)
        modelled = [confidence[word_i] for word_i in kept]
        return ItemPrediction(
            scores=type_scores,
            labels=sorted({s["label"] for s in spans}, key=self.labels.index),
            spans=spans,
            # Mean marginal of the decoded tag over the words the model saw: the queue's
            # "least confident" for spans (issue 9); 1.0 when no word was modelled.
            extras={"confidence": float(np.mean(modelled)) if modelled else 1.0},
        )

    # -- artifacts --------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        if self.net is None or self.tokenizer is None:
            raise BackendError("span_tagger: nothing to save before fit()")
        path = Path(directory)
        self.net.encoder.save_pretrained(path / ENCODER_DIR)
        self.tokenizer.save_pretrained(path / ENCODER_DIR)
        tu.save_state_dict(self.net.head_state(), path / HEAD_FILE)
        write_manifest(path, self, tags=self.tags, encoder_dir=ENCODER_DIR, weights=HEAD_FILE)

    @classmethod
    def load(cls, directory: str | Path) -> SpanTaggerBackend:
        path = Path(directory)
        manifest = read_manifest(path)
        backend = cls(manifest["labels"], manifest["task_type"], manifest["config"])
        if manifest.get("tags", backend.tags) != backend.tags:
            raise BackendError(f"{path}: manifest tags {manifest.get('tags')} do not match the labels")
        backend._build(str(path / ENCODER_DIR))
        assert backend.net is not None
        tu.load_head_weights(backend.net, path / HEAD_FILE, "encoder.", backend.device)
        backend.metrics = manifest.get("metrics", {})
        backend.thresholds = manifest.get("thresholds", {})
        return backend
