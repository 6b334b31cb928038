"""Length bucketing: run a batched function over items sorted by length, restore the order.

Tweets vary a lot in length (mean ~34 tokens, longest ~105 in the shared sets), and a batch is
padded to its longest row, so consecutive batches of unsorted texts spend most of their work on
padding. Sorting by length first puts rows of similar length together (the trick behind
sentence-transformers' `encode` and the "bucketing" of seq2seq training); the results are put
back in input order, so callers see exactly what one-at-a-time prediction gives. Pure functions
over lengths; no torch here.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")
R = TypeVar("R")


def length_order(lengths: Sequence[int]) -> np.ndarray:
    """Indices that sort `lengths` ascending; ties keep input order (stable), so the result is
    deterministic."""
    return np.argsort(np.asarray(lengths, dtype=np.int64), kind="stable")


def length_buckets(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Batches of input indices, each at most `batch_size`, of similar length (sorted)."""
    if batch_size <= 0:
        raise ValueError(f"batch size must be positive, got {batch_size}")
    order = length_order(lengths)
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]


def text_length(text: str) -> int:
    """A cheap stand-in for the token count of a text: its whitespace-separated words plus
    a share of its characters (sub-word tokenisers split long words)."""
    return len(text.split()) + len(text) // 8


def map_bucketed(items: Sequence[T], lengths: Sequence[int], batch_size: int,
                 run: Callable[[list[T]], Sequence[R]]) -> list[R]:
    """`run` over length-sorted batches of `items`; one result per item, in input order."""
    if len(items) != len(lengths):
        raise ValueError("items and lengths differ in length")
    out: list[R | None] = [None] * len(items)
    for bucket in length_buckets(lengths, batch_size):
        results = run([items[i] for i in bucket])
        if len(results) != len(bucket):
            raise ValueError(f"batch function returned {len(results)} results for {len(bucket)} items")
        for i, result in zip(bucket, results, strict=True):
            out[int(i)] = result
    return out  # type: ignore[return-value]


def rows_bucketed(items: Sequence[T], lengths: Sequence[int], batch_size: int,
                  run: Callable[[list[T]], np.ndarray], width: int) -> np.ndarray:
    """Like `map_bucketed` for a function returning an (n, width) array per batch: the rows
    land back in input order in one (len(items), width) array."""
    if len(items) != len(lengths):
        raise ValueError("items and lengths differ in length")
    out: np.ndarray | None = None
    for bucket in length_buckets(lengths, batch_size):
        block = np.asarray(run([items[i] for i in bucket]))
        if out is None:
            out = np.empty((len(items), *block.shape[1:]), dtype=block.dtype)
        out[bucket] = block
    return out if out is not None else np.zeros((0, width))
