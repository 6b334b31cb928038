"""The active-learning queue strategies: they order by the stored `Example.al_score`.

Registered into `annotator.services.queue_strategies.STRATEGIES` on import. The priority itself
is computed by the pure functions in `models_zoo.active_learning.scoring` and stored by
`models_zoo.services.queue_scores.rescore_project` (after each promotion's predictions and after
the project's strategy or queue label changes), so the claim stays one indexed query.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from annotator.services.queue_strategies import QueueStrategy, register_strategy


@dataclass(frozen=True)
class ActiveLearningStrategy(QueueStrategy):
    """Hand out the highest stored priority first; unscored examples (-1) come last."""

    # Ties (e.g. every unscored example) are broken by the random queue key, which is the last
    # column of the (project, assigned_count, al_score, queue_key) index, so PostgreSQL walks it
    # backwards and stops at the first row; an id tiebreak would force a sort.
    order: ClassVar[tuple[str, ...]] = ("-al_score", "-queue_key")
    # How the annotate page names the reason: "<reason>: <score>".
    reason: ClassVar[str] = "model unsure"

    def order_by(self) -> tuple[str, ...]:
        return self.order


@register_strategy
@dataclass(frozen=True)
class LeastConfidence(ActiveLearningStrategy):
    name: ClassVar[str] = "least_confidence"
    description: ClassVar[str] = "Model unsure: lowest top-class probability first"


@register_strategy
@dataclass(frozen=True)
class Margin(ActiveLearningStrategy):
    name: ClassVar[str] = "margin"
    description: ClassVar[str] = (
        "Model unsure: smallest gap between the two best classes first "
        "(multi-label: smallest mean per-label margin)"
    )


@register_strategy
@dataclass(frozen=True)
class MarginMin(ActiveLearningStrategy):
    name: ClassVar[str] = "margin_min"
    description: ClassVar[str] = (
        "Model unsure on at least one label: smallest per-label margin first (multi-label)"
    )


@register_strategy
@dataclass(frozen=True)
class Entropy(ActiveLearningStrategy):
    name: ClassVar[str] = "entropy"
    description: ClassVar[str] = (
        "Model unsure: highest entropy of the scores first (multi-label: highest per-label entropy)"
    )


@register_strategy
@dataclass(frozen=True)
class LikelyPositive(ActiveLearningStrategy):
    name: ClassVar[str] = "likely_positive"
    description: ClassVar[str] = (
        "Likely positives first for the project's queue label (rare classes, cold start)"
    )
    reason: ClassVar[str] = "likely positive"


@register_strategy
@dataclass(frozen=True)
class MarginDiverse(ActiveLearningStrategy):
    name: ClassVar[str] = "margin_diverse"
    description: ClassVar[str] = (
        "Margin, but the first batch is one example per k-means cluster of the most unsure "
        "candidates (no near-duplicates)"
    )


@register_strategy
@dataclass(frozen=True)
class Query(ActiveLearningStrategy):
    """Cold start (issue 18): closest to the project's descriptions (`queue_query`) first,
    then, once the project has a current model, the strategy in `queue_then`."""

    name: ClassVar[str] = "query"
    description: ClassVar[str] = (
        "Cold start: closest to your descriptions of the class (queue_query) first; once a "
        "model is current, the strategy in queue_then (default margin)"
    )
    reason: ClassVar[str] = "close to your description"


AL_STRATEGIES = tuple(
    cls.name for cls in (LeastConfidence, Margin, MarginMin, Entropy, LikelyPositive, MarginDiverse,
                         Query)
)
