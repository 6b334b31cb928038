"""Pure parts of the embedding store: shard files, id order, stale exclusion, top-k."""
from __future__ import annotations

import numpy as np
import pytest

from annotator.services import embedding_shards as S


def test_a_shard_round_trips_sorted_by_id_and_unit_length(tmp_path):
    S.write_shard(tmp_path, "c1", [7, 3, 5], np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]]))
    ids, vecs = S.read_shard(tmp_path, "c1")
    assert isinstance(vecs, np.memmap)
    assert ids.tolist() == [3, 5, 7]
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(vecs, [[1, 0], [0, 1], [0.6, 0.8]], atol=1e-7)
    assert not list(tmp_path.glob(".*")), "temporary files are renamed or removed"


def test_a_float16_shard_reads_back_as_float32_in_gather(tmp_path):
    S.write_shard(tmp_path, "c", [1], np.array([[0.6, 0.8]]), dtype="float16")
    assert S.read_shard(tmp_path, "c")[1].dtype == np.float16
    ids, vecs = S.gather([S.read_shard(tmp_path, "c")])
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(vecs, [[0.6, 0.8]], atol=1e-3)


def test_a_bad_dtype_or_shape_is_refused(tmp_path):
    with pytest.raises(ValueError, match="dtype"):
        S.write_shard(tmp_path, "c", [1], np.ones((1, 2)), dtype="int8")
    with pytest.raises(ValueError, match="2 ids"):
        S.write_shard(tmp_path, "c", [1, 2], np.ones((3, 2)))


def test_gather_orders_ids_and_drops_stale_and_duplicate_rows():
    a = (np.array([4, 9]), np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32))
    # 4 again in a later shard (its text was edited and re-embedded): the later row wins.
    b = (np.array([2, 4]), np.array([[0.6, 0.8], [0.8, 0.6]], dtype=np.float32))
    ids, vecs = S.gather([a, b])
    assert ids.tolist() == [2, 4, 9]
    np.testing.assert_allclose(vecs, [[0.6, 0.8], [0.8, 0.6], [0, 1]])
    # 9 was deleted: it is not returned, nor is anything outside the live ids.
    ids, vecs = S.gather([a, b], keep=np.array([2, 4, 100]))
    assert ids.tolist() == [2, 4]
    assert vecs.shape == (2, 2)
    ids, vecs = S.gather([a], keep=np.array([], dtype=np.int64))
    assert ids.tolist() == [] and vecs.shape == (0, 2)
    ids, vecs = S.gather([], dim=3)
    assert vecs.shape == (0, 3)


def test_select_keeps_the_asked_order_and_names_missing_ids():
    ids = np.array([2, 4, 9])
    vecs = np.array([[2.0], [4.0], [9.0]])
    assert S.select(ids, vecs, [9, 2, 4])[:, 0].tolist() == [9.0, 2.0, 4.0]
    with pytest.raises(KeyError, match="no vectors for 2 example.*: 3, 10"):
        S.select(ids, vecs, [2, 3, 10])
    with pytest.raises(KeyError, match="1 example"):
        S.select(np.zeros(0, dtype=np.int64), np.zeros((0, 1)), [1])


def test_top_k_ranks_by_cosine_and_skips_excluded_rows():
    # Unit vectors at angles 0, 60, 90 and 180 degrees from the query (1, 0).
    vecs = np.array([[1, 0], [0.5, np.sqrt(3) / 2], [0, 1], [-1, 0]], dtype=np.float32)
    pos, scores = S.top_k(vecs, np.array([1.0, 0.0]), k=3)
    assert pos.tolist() == [0, 1, 2]
    np.testing.assert_allclose(scores, [1.0, 0.5, 0.0], atol=1e-6)
    pos, scores = S.top_k(vecs, np.array([1.0, 0.0]), k=10, exclude=np.array([True, False, False, False]))
    assert pos.tolist() == [1, 2, 3]
    np.testing.assert_allclose(scores, [0.5, 0.0, -1.0], atol=1e-6)
    pos, _ = S.top_k(vecs, np.array([1.0, 0.0]), k=0)
    assert pos.tolist() == []


def test_top_k_breaks_ties_by_position():
    vecs = np.array([[0, 1], [1, 0], [1, 0], [1, 0]], dtype=np.float32)
    pos, _ = S.top_k(vecs, np.array([1.0, 0.0]), k=3)
    assert pos.tolist() == [1, 2, 3]
