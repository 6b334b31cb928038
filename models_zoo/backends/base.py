"""The backend protocol every model in Vigia implements.

A backend is a class with a registry `name`, the task types it supports, a pydantic `Config`
(its JSON schema drives the admin form), and `fit`, `predict`, `save`, `load`. Artifacts are
directories holding `manifest.json` (see `models_zoo.artifacts`) plus safetensors or the
library's native format; never pickle.
"""
from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from models_zoo.splits import ValidationSplit

CLASSIFICATION_TASK_TYPES = ("multilabel", "singlelabel", "binary", "multimodal-multilabel")
SPAN_TASK_TYPES = ("spans",)


@dataclass
class Item:
    """One model input: text, optional image bytes, and gold labels or character-offset spans."""

    text: str
    image: bytes | None = None
    labels: list[str] | None = None
    # [{"start": int, "end": int, "label": str}], offsets into `text`.
    spans: list[dict[str, Any]] | None = None
    # The example's metadata (e.g. {"event": ...}): what group cross-validation groups by.
    meta: dict[str, Any] | None = None


@dataclass
class ItemPrediction:
    """What a backend returns per input; `thresholds` are the per-class cut-offs applied."""

    scores: dict[str, float] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    spans: list[dict[str, Any]] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)
    # Backend-specific extras, e.g. attention weights per token for the UI.
    extras: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scores": self.scores,
            "labels": self.labels,
            "spans": self.spans,
            "thresholds": self.thresholds,
        }
        if self.extras:
            out.update(self.extras)
        return out


@dataclass
class ProgressEvent:
    step: int
    total_steps: int
    epoch: int | None = None
    loss: float | None = None
    message: str = ""

    @property
    def fraction(self) -> float:
        return 0.0 if self.total_steps <= 0 else min(1.0, self.step / self.total_steps)


# A progress callback may raise `TrainingCancelled` to stop a run between steps.
ProgressCallback = Callable[[ProgressEvent], None]


class TrainingCancelled(Exception):
    """Raised from a progress callback to stop training; nothing is saved."""


class BackendError(Exception):
    """Bad input or configuration for a backend; the message names the problem."""


# Form hints in a field's JSON schema (`json_schema_extra`), read by the training form
# (models_zoo.web.config_form); validation ignores them:
# - "group": VALIDATION_GROUP gathers the fields that decide how a run is validated;
# - "shown_when": {other field: [values]} shows a field only while that field has one of these
#   values (e.g. the random forest's settings while the random-forest head is chosen).
VALIDATION_GROUP = {"group": "validation"}


def shown_when(field: str, *values: Any) -> dict[str, Any]:
    """`json_schema_extra` of a field that applies only while `field` is one of `values`."""
    return {"shown_when": {field: list(values)}}


class BackendConfig(BaseModel):
    """Base for every backend's `Config`: unknown keys are errors, not silently ignored, and
    every number has bounds (checked when the run is requested, a 400 naming the field, rather
    than when a worker hits them): NaN and infinity are refused everywhere."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    # Fields naming a model on disk -> "directory" or "file": checked against the model roots
    # (models_zoo.model_roots) when a run is requested, and again when a worker loads them.
    model_path_fields: ClassVar[dict[str, str]] = {}

    # numpy's and scikit-learn's generators take seeds in [0, 2**32); torch's a wider range.
    seed: int = Field(13, ge=0, le=2**32 - 1,
                      description="Seeds the random validation split and the model's own "
                      "randomness: the same seed on the same data gives the same run (0 to 4294967295).",
                      json_schema_extra=VALIDATION_GROUP)
    # Read by the training service (the backend only ever sees the two sides it produced).
    validation_split: ValidationSplit = Field(
        default_factory=ValidationSplit,
        json_schema_extra=VALIDATION_GROUP,
        description='How train and validation are divided: {"kind": "random", "fraction": 0.2}, '
        '{"kind": "group", "field": "event", "values": ["..."]} (hold out a metadata group) or '
        '{"kind": "date", "before": "YYYY-MM-DD"} (train before, validate after). Empty: the project\'s.',
    )


class ClassifierConfig(BackendConfig):
    """Base of the classifiers' configs: what the per-label thresholds optimise on validation
    (models_zoo.thresholds; issue 12)."""

    threshold_objective: Literal["f1_positive", "f1_macro", "target_recall", "target_precision", "none"] = Field(
        "f1_positive",
        description="What each label's threshold optimises on validation: F1 of the positive class, "
        "macro-F1 over both classes, a target recall or precision per label, or none (0.5).",
        json_schema_extra=VALIDATION_GROUP,
    )
    threshold_targets: dict[str, float] = Field(
        default_factory=dict,
        description='target_recall / target_precision: label -> target, e.g. {"crisis": 0.9}; '
        "a label without one: 0.9.",
        json_schema_extra={**VALIDATION_GROUP, **shown_when("threshold_objective", "target_recall", "target_precision")},
    )


@dataclass
class FitReport:
    metrics: dict[str, Any]
    thresholds: dict[str, float]
    best_epoch: int | None = None


class Backend(abc.ABC):
    name: ClassVar[str]
    task_types: ClassVar[tuple[str, ...]]
    Config: ClassVar[type[BackendConfig]]

    def __init__(
        self,
        labels: Sequence[str],
        task_type: str,
        config: BackendConfig | dict[str, Any] | None = None,
    ) -> None:
        if task_type not in self.task_types:
            raise BackendError(
                f"backend {self.name!r} does not support task type {task_type!r}; "
                f"it supports {', '.join(self.task_types)}"
            )
        if not labels:
            raise BackendError("a backend needs at least one label")
        self.labels: list[str] = list(labels)
        self.task_type = task_type
        if config is None:
            config = self.Config()
        elif isinstance(config, dict):
            config = self.Config.model_validate(config)
        self.config = config
        self.thresholds: dict[str, float] = {}
        self.metrics: dict[str, Any] = {}

    @abc.abstractmethod
    def fit(
        self,
        train: Sequence[Item],
        validation: Sequence[Item],
        progress: ProgressCallback | None = None,
    ) -> FitReport:
        """Train on `train`, calibrate thresholds and compute metrics on `validation`."""

    @abc.abstractmethod
    def predict(self, inputs: Sequence[Item]) -> list[ItemPrediction]:
        """Scores, thresholded labels (or spans) for each input, in order."""

    @abc.abstractmethod
    def save(self, directory: str | Path) -> None:
        """Write the artifact directory (manifest.json + weights, never pickle)."""

    @classmethod
    @abc.abstractmethod
    def load(cls, directory: str | Path) -> Backend:
        """Rebuild a fitted backend from an artifact directory written by `save`."""
