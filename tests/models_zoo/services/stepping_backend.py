"""A small, deterministic backend for tests of the training machinery (no torch).

It predicts each label's training prevalence, takes `steps` progress steps (optionally sleeping,
optionally failing at one), and saves a real artifact (manifest + JSON priors). Registered under
the name "stepping" by the `stepping_backend` fixture, the way a third-party plugin would be.
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np

from models_zoo.artifacts import read_manifest, write_manifest
from models_zoo.backends.base import (
    Backend,
    BackendConfig,
    FitReport,
    Item,
    ItemPrediction,
    ProgressCallback,
    ProgressEvent,
)
from models_zoo.metrics import (
    apply_thresholds,
    calibrate_thresholds,
    classification_metrics,
    labels_to_matrix,
)


class SteppingConfig(BackendConfig):
    steps: int = 4
    sleep: float = 0.0
    fail_at: int | None = None


class SteppingBackend(Backend):
    name: ClassVar[str] = "stepping"
    task_types: ClassVar[tuple[str, ...]] = ("multilabel", "singlelabel", "binary")
    Config: ClassVar[type[BackendConfig]] = SteppingConfig
    config: SteppingConfig

    priors: np.ndarray

    def fit(self, train: Sequence[Item], validation: Sequence[Item],
            progress: ProgressCallback | None = None) -> FitReport:
        y = labels_to_matrix([i.labels or [] for i in train], self.labels)
        self.priors = y.mean(axis=0).astype(float)
        for step in range(1, self.config.steps + 1):
            if self.config.sleep:
                time.sleep(self.config.sleep)
            if self.config.fail_at == step:
                # Names a file, as library errors do: the run must not show it (config.failures).
                raise RuntimeError(f"stepping backend failed at step {step} on purpose in {__file__}")
            if progress is not None:
                progress(ProgressEvent(step=step, total_steps=self.config.steps, epoch=step,
                                       loss=1.0 / step, message=f"step {step}"))
        y_val = labels_to_matrix([i.labels or [] for i in validation], self.labels)
        scores = np.tile(self.priors, (len(validation), 1))
        self.thresholds = calibrate_thresholds(y_val, scores, self.labels)
        self.metrics = classification_metrics(
            y_val, scores, apply_thresholds(scores, self.labels, self.thresholds), self.labels
        )
        return FitReport(metrics=self.metrics, thresholds=self.thresholds, best_epoch=self.config.steps)

    def predict(self, inputs: Sequence[Item]) -> list[ItemPrediction]:
        out = []
        for _ in inputs:
            scores = {name: float(p) for name, p in zip(self.labels, self.priors)}
            out.append(ItemPrediction(
                scores=scores, labels=[n for n, p in scores.items() if p >= self.thresholds.get(n, 0.5)],
                thresholds=dict(self.thresholds),
            ))
        return out

    def save(self, directory: str | Path) -> None:
        write_manifest(directory, self)
        (Path(directory) / "priors.json").write_text(json.dumps(self.priors.tolist()))

    @classmethod
    def load(cls, directory: str | Path) -> SteppingBackend:
        manifest = read_manifest(directory)
        backend = cls(manifest["labels"], manifest["task_type"], manifest["config"])
        backend.priors = np.array(json.loads((Path(directory) / "priors.json").read_text()))
        backend.thresholds = manifest["thresholds"]
        backend.metrics = manifest["metrics"]
        return backend
