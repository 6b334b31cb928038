"""A project's training recipe applied to vectors in hand (no Django, no torch at import).

A training run of `embedding_head` (models_zoo.services.training) orders the gold examples by
id, divides them with `models_zoo.splits.split_positions` under the run's validation split and
seed, fits the head on the train side's stored vectors and calibrates the thresholds (on the
validation side or by cross-validation on the train side) under the config's objective. A
simulation round (models_zoo.active_learning.simulation) must do exactly that on the labels it
has so far, or its curves describe another product (issue 18: fitted at 0.5, Vigia's own
simulation reported F1 0 for every strategy on a 3% stream). `TrainingRecipe.fit` is that one
code path: the same split function, the same backend method (`fit_embeddings`), the same config.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models_zoo.backends._classify import decide
from models_zoo.backends.base import Item
from models_zoo.backends.embedding_head import EmbeddingHeadBackend
from models_zoo.splits import SplitEmpty, parse_split, split_positions

# A run needs this many gold examples and two label sets (models_zoo.services.datasets).
MIN_EXAMPLES = 6


@dataclass
class TrainingRecipe:
    """embedding_head's config (defaults filled in: `seed`, threshold objective and calibration,
    class weighting, head) and the project's validation split, for `labels` and `task_type`."""

    labels: list[str]
    task_type: str
    config: dict[str, Any]
    split: dict[str, Any] = field(default_factory=dict)
    # Why the recipe differs from the project's own runs, if it does (e.g. the project retrains
    # another backend: a simulation on vectors uses embedding_head with the project's defaults).
    note: str = ""

    @property
    def seed(self) -> int:
        return int(self.config.get("seed", 13))

    def keys(self, y: np.ndarray) -> list[str]:
        """Each row's stratum as training names it (models_zoo.services.datasets.stratum_key):
        its label names joined by "|" in sorted order, "(none)" for no label."""
        return ["|".join(sorted(self.labels[j] for j in np.flatnonzero(row))) or "(none)" for row in y]

    def trainable(self, y: np.ndarray) -> str:
        """Why a run could not train on these labels ("" when it can), as the service says."""
        if len(y) < MIN_EXAMPLES:
            return f"need at least {MIN_EXAMPLES} annotated examples to train"
        if len(set(self.keys(y))) < 2:
            return "need at least 2 classes among the annotated examples to train"
        return ""

    @property
    def group_field(self) -> str | None:
        """The metadata key whose values a round needs for group cross-validation
        (`threshold_calibration: group_cross_validation`); None for other calibrations."""
        if self.config.get("threshold_calibration") != "group_cross_validation":
            return None
        return str(self.config.get("calibration_group_field") or "event")

    def fit(self, x: np.ndarray, y: np.ndarray, values: Sequence[Any] | None = None,
            groups: Sequence[Any] | None = None) -> Any:
        """The fitted backend (thresholds in `.thresholds`) for rows `x`, gold `y` (n, L) 0/1,
        in example id order; `values`: the rows' metadata values of a group or date split's
        field; `groups`: their values of `group_field` (group cross-validation; a training
        run reads them from the examples' metadata). None when a run could not train on them
        (too few labels, one class, an empty side of the split)."""
        y = np.asarray(y)
        if self.trainable(y):
            return None
        try:
            train, validation, _excluded = split_positions(parse_split(self.split), self.keys(y),
                                                           values, self.seed)
        except SplitEmpty:
            return None
        if not train or not validation:
            return None
        field = self.group_field
        items = [Item(text="", labels=[self.labels[j] for j in np.flatnonzero(row)],
                      meta={field: groups[i]} if field and groups is not None else None)
                 for i, row in enumerate(y)]
        backend = EmbeddingHeadBackend(self.labels, self.task_type, self.config)
        backend.fit_embeddings(np.asarray(x)[train], [items[i] for i in train],
                               np.asarray(x)[validation], [items[i] for i in validation])
        return backend


def scores_of(backend: Any, x: np.ndarray) -> np.ndarray:
    """(n, L) probabilities of a fitted embedding_head on vectors."""
    return backend._scores(np.asarray(x, dtype=np.float64))


def decisions_of(backend: Any, scores: np.ndarray) -> np.ndarray:
    """0/1 decisions with the backend's calibrated thresholds (argmax for single-label), as the
    prediction API decides."""
    return decide(scores, backend.labels, backend.task_type, backend.thresholds)
