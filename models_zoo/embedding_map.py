"""The embedding map's layout: a pure function over vectors (no Django).

Seeds 000 and 001 (../shared/seeds/000_6439293a44f381f6.txt, 001_5f3a602ec41e8bc1.txt) work
from sentence-embedding representations of tweets; the map shows how the project's stored
vectors group: PCA to at most 50 dimensions (denoises and speeds UMAP up), then UMAP to 2
(umap-learn), both seeded. UMAP needs n_neighbors < n: it is clamped to n - 1, and with fewer
than MIN_UMAP points the map is the first two principal components.
"""
from __future__ import annotations

import numpy as np

PCA_DIM = 50
N_NEIGHBORS = 15
MIN_UMAP = 5


def pca(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Centred vectors projected on their top `dim` principal axes (SVD), min(dim, n, d) wide."""
    x = np.asarray(vectors, dtype=np.float64)
    x = x - x.mean(axis=0, keepdims=True)
    k = max(1, min(dim, x.shape[0], x.shape[1]))
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    return u[:, :k] * s[:k]


def _unit_square(xy: np.ndarray) -> np.ndarray:
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    return (xy - lo) / span


def project_map(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """(n, 2) coordinates in [0, 1]^2 for (n, d) vectors: PCA to 50, then UMAP to 2."""
    x = np.asarray(vectors, dtype=np.float64)
    n = x.shape[0]
    if n == 0:
        return np.zeros((0, 2))
    if n == 1:
        return np.full((1, 2), 0.5)
    reduced = pca(x, PCA_DIM)
    if n < MIN_UMAP:
        xy = np.zeros((n, 2))
        xy[:, : min(2, reduced.shape[1])] = reduced[:, :2]
        return _unit_square(xy)
    import umap

    model = umap.UMAP(n_components=2, n_neighbors=min(N_NEIGHBORS, n - 1), random_state=seed,
                      init="random" if n < 20 else "spectral", min_dist=0.1, n_jobs=1)
    return _unit_square(model.fit_transform(reduced))
