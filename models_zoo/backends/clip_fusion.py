"""`clip_fusion`: seed 002's gated late fusion of CLIP text and image embeddings.

Seed 002 (../shared/seeds/002_58145e44d9d40203.txt): fusion dim 512, max text length 77, BCE,
differential learning rates (encoders 1e-5, head 5e-4), weight decay 0.02, max grad norm 1.0,
cosine schedule with 5% warm-up, early stopping (patience 3) on validation ROC-AUC macro, per-class
thresholds calibrated on validation. The card's image augmentation is not reproduced.
Any CLIP-like checkpoint or directory works (AutoModel with get_text_features /
get_image_features, AutoTokenizer, AutoImageProcessor). The network is in `_fusion_net`.
"""
from __future__ import annotations

import base64
import binascii
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import Field

from models_zoo.artifacts import read_manifest, write_manifest
from models_zoo.backends import _classify as cls_rules
from models_zoo.backends import _torch_utils as tu
from models_zoo.backends._buckets import length_buckets, text_length
from models_zoo.backends._encoders import offline_env, resolve_model_path
from models_zoo.backends._fusion_net import ClipFusionNet
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

HEAD_FILE = "head.safetensors"
CLIP_DIR = "clip"


class ClipFusionConfig(ClassifierConfig):
    model_path_fields: ClassVar[dict[str, str]] = {"clip": "directory"}
    clip: str = Field("openai/clip-vit-base-patch32", description="CLIP checkpoint name or local "
                      "directory (any model with get_text_features / get_image_features)")
    fusion_dim: int = Field(512, ge=8, le=4096, description="projection / fusion width (seed 002)")
    dropout: float = Field(0.1, ge=0.0, lt=1.0, description="dropout in the MLP head")
    max_text_length: int = Field(77, ge=4, le=512, description="max text tokens (CLIP: 77)")
    batch_size: int = Field(32, ge=1, le=1024, description="training batch size")
    predict_batch_size: int = Field(64, ge=1, le=4096, description="batch size at prediction")
    epochs: int = Field(6, ge=1, le=200, description="maximum epochs")
    patience: int = Field(3, ge=1, le=100, description="early stopping on validation ROC-AUC macro")
    lr_encoder: float = Field(1e-5, gt=0, description="learning rate of the CLIP towers (seed 002)")
    lr_head: float = Field(5e-4, gt=0, description="learning rate of projections, gate and head")
    weight_decay: float = Field(0.02, ge=0, description="AdamW weight decay")
    warmup_ratio: float = Field(0.05, ge=0, lt=1, description="share of steps for linear warm-up")
    freeze_text: bool = Field(False, description="keep the CLIP text tower frozen")
    freeze_image: bool = Field(False, description="keep the CLIP image tower frozen")
    device: str = Field("auto", description="'auto' (CUDA when present), 'cpu' or 'cuda'")


def decode_image(data: bytes | str, where: str) -> Any:
    """PIL RGB image from PNG/JPEG/... bytes (or their base64 text, as JSON carries them);
    the error names the item."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(data, str):
        try:
            data = base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise BackendError(f"{where}: image text is not valid base64 ({exc})") from exc
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise BackendError(f"{where}: image bytes are not a readable image ({exc})") from exc
    return image.convert("RGB")


def has_text(item: Item) -> bool:
    return bool(item.text and item.text.strip())


class ClipFusionBackend(Backend):
    """Multi-label (or binary) classification of text, image or text + image posts."""

    name = "clip_fusion"
    task_types = ("multimodal-multilabel", "multilabel", "binary")
    Config = ClipFusionConfig
    config: ClipFusionConfig

    def __init__(self, labels: Sequence[str], task_type: str = "multimodal-multilabel",
                 config: BackendConfig | dict[str, Any] | None = None) -> None:
        super().__init__(labels, task_type, config)
        cls_rules.check_labels_for_task(self.labels, task_type)
        self.device = tu.pick_device(self.config.device)
        self.net: ClipFusionNet | None = None
        self.tokenizer: Any = None
        self.image_processor: Any = None

    def _build(self, source: str) -> None:
        from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

        offline_env()
        clip = AutoModel.from_pretrained(source)
        if not (hasattr(clip, "get_text_features") and hasattr(clip, "get_image_features")):
            raise BackendError(f"{source!r} is not a CLIP-like model (no get_text_features / "
                               "get_image_features)")
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.image_processor = AutoImageProcessor.from_pretrained(source)
        c = self.config
        self.net = ClipFusionNet(clip, len(self.labels), c.fusion_dim, c.dropout).to(self.device)

    # -- preprocess / forward ----------------------------------------------------------------
    def _inputs(self, items: Sequence[Item], where: str, offset: int = 0,
                positions: Sequence[int] | None = None) -> dict[str, Any]:
        """Tokenised texts and pixel values for the items that have each modality; errors name
        item `offset + i`, or `positions[i]` (a length-sorted batch)."""
        text_rows = [i for i, item in enumerate(items) if has_text(item)]
        image_rows = [i for i, item in enumerate(items) if item.image]
        out: dict[str, Any] = {
            "has_text": torch.tensor([has_text(item) for item in items], dtype=torch.bool),
            "has_image": torch.tensor([bool(item.image) for item in items], dtype=torch.bool),
            "text": None, "pixels": None,
        }
        if text_rows:
            out["text"] = dict(self.tokenizer(
                [items[i].text for i in text_rows], padding=True, truncation=True,
                max_length=self.config.max_text_length, return_tensors="pt",
            ))
            out["text"] = {k: v for k, v in out["text"].items() if k in ("input_ids", "attention_mask")}
        if image_rows:
            images = [decode_image(items[i].image,
                                   f"{where} item {positions[i] if positions is not None else offset + i}")
                      for i in image_rows]
            out["pixels"] = self.image_processor(images=images, return_tensors="pt")["pixel_values"]
        return out

    def _embed(self, inputs: dict[str, Any]) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        assert self.net is not None
        text = image = None
        if inputs["text"] is not None:
            text = self.net.encode_text({k: v.to(self.device) for k, v in inputs["text"].items()})
        if inputs["pixels"] is not None:
            image = self.net.encode_image(inputs["pixels"].to(self.device))
        return text, image

    def _logits(self, inputs: dict[str, Any]) -> torch.Tensor:
        assert self.net is not None
        text, image = self._embed(inputs)
        return self.net.fuse(text, image, inputs["has_text"].to(self.device),
                             inputs["has_image"].to(self.device)).float()

    def _embed_items(self, items: Sequence[Item]) -> dict[str, torch.Tensor]:
        """Per-item text / image embeddings (zero rows where a modality is missing)."""
        assert self.net is not None
        text_dim, image_dim = self.net.text_proj.in_features, self.net.image_proj.in_features
        out = {
            "text": torch.zeros(len(items), text_dim), "image": torch.zeros(len(items), image_dim),
            "has_text": torch.zeros(len(items), dtype=torch.bool),
            "has_image": torch.zeros(len(items), dtype=torch.bool),
        }
        self.net.eval()
        with torch.inference_mode():
            for start in range(0, len(items), self.config.predict_batch_size):
                chunk = items[start : start + self.config.predict_batch_size]
                inputs = self._inputs(chunk, "train", start)
                with tu.autocast(self.device):
                    text, image = self._embed(inputs)
                rows = torch.arange(start, start + len(chunk))
                if text is not None:
                    out["text"][rows[inputs["has_text"]]] = text.float().cpu()
                if image is not None:
                    out["image"][rows[inputs["has_image"]]] = image.float().cpu()
                out["has_text"][rows] = inputs["has_text"]
                out["has_image"][rows] = inputs["has_image"]
        self.net.train()
        return out

    def _frozen_logits(self, frozen: dict[str, torch.Tensor], index: list[int]) -> torch.Tensor:
        assert self.net is not None
        has_t, has_i = frozen["has_text"][index], frozen["has_image"][index]
        text = frozen["text"][index][has_t].to(self.device)
        image = frozen["image"][index][has_i].to(self.device)
        return self.net.fuse(text, image, has_t.to(self.device), has_i.to(self.device)).float()

    def _scores(self, items: Sequence[Item], where: str) -> np.ndarray:
        assert self.net is not None
        self.net.eval()
        logits = np.zeros((len(items), len(self.labels)))
        with torch.inference_mode():
            # Length-sorted batches (texts padded less), rows restored to input order.
            for rows in length_buckets([text_length(item.text or "") for item in items],
                                       self.config.predict_batch_size):
                chunk = [items[int(i)] for i in rows]
                with tu.autocast(self.device):
                    block = self._logits(self._inputs(chunk, where, positions=[int(i) for i in rows]))
                logits[rows] = block.float().cpu().numpy()
        return cls_rules.sigmoid(logits.astype(np.float64))

    # -- training ---------------------------------------------------------------------------
    def fit(self, train: Sequence[Item], validation: Sequence[Item],
            progress: ProgressCallback | None = None) -> FitReport:
        cls_rules.check_splits(train, validation)
        c = self.config
        y_train = cls_rules.gold_matrix(train, self.labels, self.task_type, "train")
        y_val = cls_rules.gold_matrix(validation, self.labels, self.task_type, "validation")
        generator = tu.seed_everything(c.seed)
        self._build(resolve_model_path(c.clip))
        assert self.net is not None
        text_tower = [p for n, p in self.net.clip.named_parameters() if "text" in n]
        image_tower = [p for n, p in self.net.clip.named_parameters() if "text" not in n]
        for params, frozen in ((text_tower, c.freeze_text), (image_tower, c.freeze_image)):
            for p in params:
                p.requires_grad_(not frozen)
        head = [p for n, p in self.net.named_parameters() if not n.startswith("clip.")]
        encoder = [p for p in self.net.clip.parameters() if p.requires_grad]
        groups = [{"params": head, "lr": c.lr_head}]
        if encoder:
            groups.append({"params": encoder, "lr": c.lr_encoder})
        optimizer = torch.optim.AdamW(groups, weight_decay=c.weight_decay)
        # The schedule's length must match run_epochs' (one batch plan per epoch).
        total = math.ceil(len(train) / c.batch_size) * c.epochs
        warmup = int(c.warmup_ratio * total)

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / (warmup + 1)
            return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        # Frozen towers give the same embeddings every epoch: compute them once per item.
        frozen = self._embed_items(train) if (c.freeze_text and c.freeze_image) else None

        def batch_loss(index: list[int]) -> torch.Tensor:
            target = torch.as_tensor(y_train[index], dtype=torch.float32, device=self.device)
            if frozen is not None:
                return loss_fn(self._frozen_logits(frozen, index), target)
            return loss_fn(self._logits(self._inputs([train[i] for i in index], "train")), target)

        def evaluate() -> tuple[np.ndarray, tuple[float, ...]]:
            scores = self._scores(validation, "validation")
            auc = cls_rules.selection_score(y_val, scores, self.labels)
            # Best by ROC-AUC (seed 002); ties (AUC saturates on easy sets) and validation
            # splits without a defined AUC are decided by the validation loss.
            return scores, (auc if auc is not None else -math.inf, -_bce(y_val, scores))

        result = run_epochs(
            model=self.net, optimizer=optimizer, scheduler=scheduler,
            epoch_batches=lambda _: tu.shuffled_batches(len(train), c.batch_size, generator),
            batch_loss=batch_loss, evaluate=evaluate, epochs=c.epochs, patience=c.patience,
            device=self.device, progress=progress,
        )
        best_epoch, history = result.best_epoch, result.history
        scores = result.best_scores
        self.thresholds, self.metrics = cls_rules.calibrate_for(self.config,
            y_val, scores, self.labels, self.task_type)
        self.metrics.update({"best_epoch": best_epoch, "history": history})
        return FitReport(metrics=self.metrics, thresholds=self.thresholds, best_epoch=best_epoch)

    # -- prediction -------------------------------------------------------------------------
    def predict_scores(self, inputs: Sequence[Item]) -> np.ndarray:
        """Per-label probabilities, (n_items, n_labels)."""
        if self.net is None:
            raise BackendError("clip_fusion: predict() before fit() or load()")
        return self._scores(list(inputs), "input")

    def predict(self, inputs: Sequence[Item]) -> list[ItemPrediction]:
        scores = self.predict_scores(inputs)
        return cls_rules.to_predictions(scores, self.labels, self.task_type, self.thresholds)

    # -- artifacts --------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        if self.net is None:
            raise BackendError("clip_fusion: nothing to save before fit()")
        path = Path(directory)
        self.net.clip.save_pretrained(path / CLIP_DIR)
        self.tokenizer.save_pretrained(path / CLIP_DIR)
        self.image_processor.save_pretrained(path / CLIP_DIR)
        tu.save_state_dict(self.net.head_state(), path / HEAD_FILE)
        write_manifest(path, self, clip_dir=CLIP_DIR, weights=HEAD_FILE)

    @classmethod
    def load(cls, directory: str | Path) -> ClipFusionBackend:
        path = Path(directory)
        manifest = read_manifest(path)
        backend = cls(manifest["labels"], manifest["task_type"], manifest["config"])
        backend._build(str(path / CLIP_DIR))
        assert backend.net is not None
        tu.load_head_weights(backend.net, path / HEAD_FILE, "clip.", backend.device)
        backend.thresholds = {k: float(v) for k, v in manifest.get("thresholds", {}).items()}
        backend.metrics = manifest.get("metrics", {})
        return backend


def _bce(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
