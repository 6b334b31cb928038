"""Queue strategies: pure classes (no ORM) that say in which order an annotator's queue runs.

As in doccano's assignment strategies, the policy is a small plain class and the use-case module
(`annotator.services.queue`) applies it to the database. A strategy answers one question: in
which order should unclaimed examples be handed out? It does so with an ordering over Example
columns, so the claim stays one indexed `SELECT ... LIMIT 1 FOR UPDATE SKIP LOCKED` however large
the project is. Later issues (active learning, mined proposals) register a strategy that orders
by a score column they maintain, or that narrows the candidates with `extra_filter`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar


@dataclass(frozen=True)
class QueueStrategy:
    """Base strategy: hand out examples in `order` (Example field names, Django syntax)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # Secondary order after the overlap-completion preference, Django `order_by` syntax.
    order: ClassVar[tuple[str, ...]] = ("id",)
    # Dotted path of `f(project) -> dict` giving the strategy's fields from the project (e.g.
    # which mining run to serve); the queue service resolves it, the strategy stays pure.
    context_provider: ClassVar[str] = ""

    def order_by(self) -> tuple[str, ...]:
        """Field names to order candidates by, always ending with a unique tiebreak."""
        return self.order if self.order[-1] in ("id", "-id", "pk", "-pk") else (*self.order, "id")

    def extra_filter(self) -> Mapping[str, Any]:
        """Extra `Example` lookups restricting the candidates (none by default)."""
        return {}

    def filter_for(self, project: Any) -> Mapping[str, Any]:
        """Lookups restricting the candidates for `project` (its settings may name a subset,
        e.g. a sample); `extra_filter` by default."""
        return self.extra_filter()


@dataclass(frozen=True)
class RandomStrategy(QueueStrategy):
    """Uniformly random order: `Example.queue_key` is a random float fixed at creation, so the
    order is random yet stable, and it is the last column of the (project, assigned_count,
    queue_key) index."""

    name: ClassVar[str] = "random"
    description: ClassVar[str] = "Random order (stable per example)"
    order: ClassVar[tuple[str, ...]] = ("-queue_key",)

    def order_by(self) -> tuple[str, ...]:
        # No id tiebreak: ties on a random float are vanishingly rare, and an extra sort key
        # would stop PostgreSQL from walking the index and stopping at the first row.
        return self.order


@dataclass(frozen=True)
class SequentialStrategy(QueueStrategy):
    """Import order (oldest first): useful for small curated sets and for reproducible demos."""

    name: ClassVar[str] = "sequential"
    description: ClassVar[str] = "Import order"
    order: ClassVar[tuple[str, ...]] = ("id",)


@dataclass(frozen=True)
class SampleStrategy(QueueStrategy):
    """Only the members of the project's `queue_sample` (seed 004: annotate a stratified sample),
    in random order; nothing while no sample is chosen."""

    name: ClassVar[str] = "sample"
    description: ClassVar[str] = "Members of the project's chosen sample (queue_sample)"
    order: ClassVar[tuple[str, ...]] = ("-queue_key",)

    def order_by(self) -> tuple[str, ...]:
        return self.order

    def filter_for(self, project: Any) -> Mapping[str, Any]:
        sample_id = getattr(project, "queue_sample_id", None)
        if sample_id is None:
            return {"pk__in": []}
        # (sample, example) is unique, so the join never repeats an example.
        return {"sample_members__sample_id": sample_id}


@dataclass(frozen=True)
class ProposalsStrategy(QueueStrategy):
    """A mining run's pending proposals (seed 003's difficult negatives), highest S_an first,
    for annotators to confirm; nothing else. The run: the project's run marked to serve the
    queue, else its latest succeeded propose-mode run (annotator.mining.proposals)."""

    name: ClassVar[str] = "proposals"
    description: ClassVar[str] = "Mined difficult-negative proposals (latest mining run)"
    order: ClassVar[tuple[str, ...]] = ("-mining_proposals__s_an", "id")
    context_provider: ClassVar[str] = "annotator.mining.proposals.queue_context"
    run_id: int | None = None

    def extra_filter(self) -> Mapping[str, Any]:
        if self.run_id is None:
            return {"pk__in": []}
        # (run, example) is unique, so this join never repeats an example.
        return {"mining_proposals__run_id": self.run_id, "mining_proposals__status": "pending"}


STRATEGIES: dict[str, type[QueueStrategy]] = {
    RandomStrategy.name: RandomStrategy,
    SequentialStrategy.name: SequentialStrategy,
    SampleStrategy.name: SampleStrategy,
    ProposalsStrategy.name: ProposalsStrategy,
}


def register_strategy(cls: type[QueueStrategy]) -> type[QueueStrategy]:
    """Class decorator for later strategies (active learning, mined proposals)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a non-empty `name`.")
    STRATEGIES[cls.name] = cls
    return cls


def get_strategy(name: str, context: Mapping[str, Any] | None = None) -> QueueStrategy:
    """The strategy registered as `name`, built with the `context` entries it has fields for;
    the error lists the valid names."""
    try:
        cls = STRATEGIES[name or RandomStrategy.name]
    except KeyError:
        raise ValueError(
            f"unknown queue strategy {name!r}; available: {', '.join(sorted(STRATEGIES))}."
        ) from None
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in (context or {}).items() if k in known})
