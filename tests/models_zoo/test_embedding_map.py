"""The embedding map's layout (issue 13): PCA by hand, the small-n guards, real UMAP (slow)."""
from __future__ import annotations

import numpy as np
import pytest

from models_zoo.embedding_map import pca, project_map


def test_pca_keeps_the_axis_of_largest_variance():
    # points on the line y = 2x: one principal axis carries all the variance
    x = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    reduced = pca(x, 50)
    assert reduced.shape == (4, 2)  # at most min(dim, n, d) wide
    np.testing.assert_allclose(np.abs(reduced[:, 0]), np.abs(np.array([-1.5, -0.5, 0.5, 1.5]) * np.sqrt(5)), atol=1e-9)
    np.testing.assert_allclose(reduced[:, 1], 0.0, atol=1e-9)


def test_tiny_inputs_skip_umap_and_land_in_the_unit_square():
    assert project_map(np.zeros((0, 8))).shape == (0, 2)
    np.testing.assert_array_equal(project_map(np.ones((1, 8))), [[0.5, 0.5]])
    x = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    xy = project_map(x, seed=0)
    assert xy.shape == (3, 2) and xy.min() >= 0.0 and xy.max() <= 1.0
    assert xy.max(axis=0).tolist() == [1.0, 1.0] and xy.min(axis=0).tolist() == [0.0, 0.0]


@pytest.mark.slow  # numba compiles UMAP on first use (~12 s here)
def test_umap_keeps_two_separated_clusters_apart_and_is_seeded():
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 0.05, (10, 64)) + 1.0
    b = rng.normal(0.0, 0.05, (10, 64)) - 1.0
    x = np.vstack([a, b])  # 20 points: n_neighbors 15 < n
    xy = project_map(x, seed=3)
    assert xy.shape == (20, 2)
    ca, cb = xy[:10].mean(axis=0), xy[10:].mean(axis=0)
    spread = max(xy[:10].std(axis=0).max(), xy[10:].std(axis=0).max())
    assert np.linalg.norm(ca - cb) > 4 * spread
    np.testing.assert_allclose(project_map(x, seed=3), xy)
    small = project_map(x[:8], seed=3)  # n_neighbors clamped to n - 1
    assert small.shape == (8, 2) and np.isfinite(small).all()
