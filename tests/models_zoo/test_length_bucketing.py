"""Length bucketing: the pure helpers on hand-computed cases, and every built-in backend gives a
shuffled batch the same predictions, in the same order, as one item at a time."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from models_zoo.backends._buckets import length_buckets, length_order, map_bucketed, rows_bucketed
from models_zoo.registry import BUILTIN_BACKENDS
from tests.models_zoo.test_contract import _case


def test_length_order_is_stable_ascending() -> None:
    assert length_order([3, 1, 2, 1, 3]).tolist() == [1, 3, 2, 0, 4]


def test_length_buckets_group_similar_lengths() -> None:
    buckets = length_buckets([5, 1, 9, 2, 8, 1], batch_size=2)
    assert [b.tolist() for b in buckets] == [[1, 5], [3, 0], [4, 2]]
    with pytest.raises(ValueError, match="batch size must be positive"):
        length_buckets([1], 0)


def test_map_bucketed_restores_input_order_and_batches_by_length() -> None:
    seen: list[list[str]] = []

    def run(chunk: list[str]) -> list[str]:
        seen.append(list(chunk))
        return [s.upper() for s in chunk]

    items = ["ccc", "a", "bbbb", "dd"]
    assert map_bucketed(items, [len(s) for s in items], 2, run) == ["CCC", "A", "BBBB", "DD"]
    assert seen == [["a", "dd"], ["ccc", "bbbb"]]
    with pytest.raises(ValueError, match="returned 1 results for 2 items"):
        map_bucketed(items, [len(s) for s in items], 2, lambda chunk: chunk[:1])


def test_rows_bucketed_puts_rows_back() -> None:
    items = [3, 1, 2]
    out = rows_bucketed(items, items, 2, lambda chunk: np.array([[v, v * 10] for v in chunk]), 2)
    assert out.tolist() == [[3, 30], [1, 10], [2, 20]]
    assert rows_bucketed([], [], 4, lambda chunk: np.zeros((0, 3)), 3).shape == (0, 3)


@pytest.mark.parametrize("name", sorted(BUILTIN_BACKENDS))
def test_shuffled_batch_predicts_as_one_at_a_time(name: str, tmp_path: Path) -> None:
    backend, train, validation, to_predict = _case(name, tmp_path)
    backend.fit(train, validation)
    items = list(to_predict)
    random.Random(7).shuffle(items)
    lengths = {len(item.text or "") for item in items}
    assert len(lengths) > 3, "the case should mix text lengths"
    for size_field in ("embed_batch_size", "eval_batch_size", "predict_batch_size"):
        if size_field in type(backend.config).model_fields:
            setattr(backend.config, size_field, 4)  # several buckets over the shuffled items
    batched = backend.predict(items)
    single = [backend.predict([item])[0] for item in items]
    assert len(batched) == len(items)
    for i, (a, b) in enumerate(zip(batched, single, strict=True)):
        assert a.scores.keys() == b.scores.keys(), f"item {i}"
        np.testing.assert_allclose([a.scores[k] for k in a.scores], [b.scores[k] for k in a.scores],
                                   rtol=1e-4, atol=1e-5, err_msg=f"item {i}: {items[i].text!r}")
        assert a.labels == b.labels, f"item {i}"
        # Same spans; their scores agree to float noise (batch composition changes BLAS
        # blocking, about 2e-6 here).
        assert [{k: v for k, v in sp.items() if k != "score"} for sp in a.spans] == [
            {k: v for k, v in sp.items() if k != "score"} for sp in b.spans], f"item {i}"
        np.testing.assert_allclose([sp.get("score", 0.0) for sp in a.spans],
                                   [sp.get("score", 0.0) for sp in b.spans],
                                   rtol=1e-4, atol=1e-5, err_msg=f"item {i}")
