"""Seed 003's semantic negative mining as pure functions over embedding arrays.

Seed 003 (../shared/seeds/003_43c8cb6e46dbc9f4.txt, "Method: Negative Mining"): (1) the anchor
is the mean embedding of a class's positives; (2) S_an = cosine(anchor, x); a normal (mu, sigma)
is fitted to S_an of p random pool items; (3) candidates are selected by where their S_an falls
in that normal: band k (1, 2, 3) is the region between k-1 and k sigmas from mu. The seed mines
above mu ("a high S_an entails a high semantic similarity"); both tails are an option here.

Band membership in z = (S_an - mu) / sigma: band k holds k-1 <= |z| < k, the upper tail z >= 0,
the lower tail z < 0. So z = 0 is in band 1 (upper), z = 1 in band 2, z = -1 in band 2 (lower),
and |z| >= 3 is in no band (the seed ignores the 0.3% beyond three sigmas).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

BANDS = (1, 2, 3)
TAILS = ("upper", "both")
DEFAULT_P = 3000
DEFAULT_DEDUPE_THRESHOLD = 0.95


class MiningError(ValueError):
    """Mining cannot run with these inputs; `field` names the parameter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class BandTooSmall(MiningError):
    """Fewer eligible candidates in the band than asked for; `holds` says how many there are."""

    def __init__(self, band: int, n: int, holds: int) -> None:
        super().__init__(
            "n", f"band {band} holds {holds} eligible example(s); asked for {n}."
        )
        self.holds = holds


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), float32."""
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(norms == 0, 1.0, norms)


def anchor_vector(positive_vectors: np.ndarray) -> np.ndarray:
    """Unit vector along the mean of the positives' normalised vectors (seed 003 step 1).

    Scaling does not change a cosine, so S_an is a dot product with this vector.
    """
    if len(positive_vectors) == 0:
        raise MiningError("label", "the label has no positives with vectors.")
    mean = unit_rows(positive_vectors).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm == 0:
        raise MiningError("label", "the positives' mean vector is zero: no direction to mine along.")
    return (mean / norm).astype(np.float32)


def anchor_similarities(vectors: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """S_an = cosine(anchor, x) for every row of `vectors` (rows assumed L2-normalised)."""
    return np.asarray(vectors @ anchor, dtype=np.float32)


def fit_normal(s_an: np.ndarray, p: int, rng: np.random.Generator) -> tuple[float, float]:
    """mu and sigma (maximum likelihood, ddof 0) of S_an over p items drawn without
    replacement (all of them when there are fewer than p)."""
    if p < 2:
        raise MiningError("p", "p must be at least 2 to fit a normal.")
    if len(s_an) < 2:
        raise MiningError("p", f"the pool holds {len(s_an)} example(s); at least 2 are needed.")
    sample = s_an if len(s_an) <= p else s_an[rng.choice(len(s_an), size=p, replace=False)]
    sample = np.asarray(sample, dtype=np.float64)
    mu, sigma = float(sample.mean()), float(sample.std())
    if not sigma > 0:
        raise MiningError("p", "S_an is constant over the sampled pool: sigma is 0.")
    return mu, sigma


def check_band(band: int, tails: str) -> None:
    if band not in BANDS:
        raise MiningError("band", f"band must be 1, 2 or 3, not {band!r}.")
    if tails not in TAILS:
        raise MiningError("tails", f"tails must be one of {', '.join(TAILS)}, not {tails!r}.")


def band_mask(s_an: np.ndarray, mu: float, sigma: float, band: int, tails: str = "upper") -> np.ndarray:
    """Boolean mask of the S_an values that fall in `band` (see the module docstring)."""
    check_band(band, tails)
    z = (np.asarray(s_an, dtype=np.float64) - mu) / sigma
    inside = (np.abs(z) >= band - 1) & (np.abs(z) < band)
    return inside & (z >= 0) if tails == "upper" else inside


def band_limits(mu: float, sigma: float, band: int, tails: str = "upper") -> list[tuple[float, float]]:
    """The S_an intervals of `band` (for drawing): one interval, two with both tails."""
    check_band(band, tails)
    upper = (mu + (band - 1) * sigma, mu + band * sigma)
    if tails == "upper":
        return [upper]
    return [(mu - band * sigma, mu - (band - 1) * sigma), upper]


def histogram(s_an: np.ndarray, bins: int = 40) -> dict[str, list[float] | list[int]]:
    """Counts of S_an in `bins` equal bins over its range: {"edges": [...], "counts": [...]}."""
    values = np.asarray(s_an, dtype=np.float64)
    if len(values) == 0:
        return {"edges": [], "counts": []}
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        hi = lo + 1e-6
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return {"edges": [round(float(e), 6) for e in edges], "counts": [int(c) for c in counts]}


@dataclass(frozen=True)
class Draw:
    """The outcome of a seeded draw within a band."""

    picked: np.ndarray  # indices (into the caller's arrays) in draw order
    examined: int  # candidates looked at before n were found (or the whole band)
    near_duplicates: int  # skipped: cosine above the threshold to some positive
    same_text: int  # skipped: text key equal to a positive's or an earlier pick's


def draw_from_band(
    band_indices: np.ndarray,
    n: int,
    rng: np.random.Generator,
    vectors: np.ndarray,
    positive_vectors: np.ndarray,
    *,
    dedupe_threshold: float = DEFAULT_DEDUPE_THRESHOLD,
    keys: Callable[[np.ndarray], Sequence[str]] | None = None,
    positive_keys: set[str] | frozenset[str] = frozenset(),
    batch: int | None = None,
    band: int = 0,
) -> Draw:
    """Draw `n` of `band_indices` uniformly at random (seeded), skipping near-duplicates of any
    positive (cosine > `dedupe_threshold`) and a text already seen (its key equals a
    positive's key or an earlier pick's).

    Candidates are examined in a random permutation, a batch at a time, so the exclusions cost
    O(n) rows however large the band is. Raises BandTooSmall (with the number of eligible
    candidates) when the whole band holds fewer than n.
    """
    if n < 1:
        raise MiningError("n", "n must be at least 1.")
    order = rng.permutation(np.asarray(band_indices, dtype=np.int64))
    positives = unit_rows(positive_vectors) if len(positive_vectors) else None
    # A little more than n per batch: the near-duplicate check (a batch x positives product)
    # is the costly part, and most candidates pass it.
    step = batch or max(64, n + n // 8)
    picked: list[int] = []
    seen = set(positive_keys)
    near = same = examined = 0
    for start in range(0, len(order), step):
        chunk = order[start:start + step]
        if positives is not None:
            closest = (np.asarray(vectors[np.sort(chunk)], dtype=np.float32) @ positives.T).max(axis=1)
            # vectors[np.sort(chunk)] reads the rows in disk order; map back to chunk order.
            closest = closest[np.argsort(np.argsort(chunk))]
            keep = closest <= dedupe_threshold
        else:
            keep = np.ones(len(chunk), dtype=bool)
        chunk_keys = list(keys(chunk)) if keys is not None else [None] * len(chunk)
        for i, index in enumerate(chunk):
            examined += 1
            if not keep[i]:
                near += 1
                continue
            key = chunk_keys[i]
            if key is not None:
                if key in seen:
                    same += 1
                    continue
                seen.add(key)
            picked.append(int(index))
            if len(picked) == n:
                return Draw(np.array(picked, dtype=np.int64), examined, near, same)
    raise BandTooSmall(band=band, n=n, holds=len(picked))


def text_key(text: str) -> str:
    """What "the same text" means for mining: case- and whitespace-folded."""
    return " ".join(text.split()).lower()


@dataclass(frozen=True)
class MiningResult:
    """What one mining pass found; indices are rows of the caller's `vectors`."""

    picked: np.ndarray
    picked_s_an: np.ndarray
    mu: float
    sigma: float
    histogram: dict[str, list[float] | list[int]]
    pool_size: int
    band_size: int
    draw: Draw


def mine_difficult_negatives(
    vectors: np.ndarray,
    positive_rows: np.ndarray,
    pool_rows: np.ndarray,
    *,
    band: int,
    n: int,
    rng: np.random.Generator,
    p: int = DEFAULT_P,
    tails: str = "upper",
    dedupe_threshold: float = DEFAULT_DEDUPE_THRESHOLD,
    keys: Callable[[np.ndarray], Sequence[str]] | None = None,
    positive_keys: set[str] | frozenset[str] = frozenset(),
) -> MiningResult:
    """Seed 003 end to end over one matrix: anchor from `positive_rows`, S_an of the pool
    (`pool_rows`: the unlabelled candidates), normal fitted on p random pool rows, band,
    exclusions and the seeded draw of n. The rng is used for the fit, then for the draw."""
    check_band(band, tails)
    anchor = anchor_vector(np.asarray(vectors[np.sort(positive_rows)], dtype=np.float32))
    pool_rows = np.asarray(pool_rows, dtype=np.int64)
    if len(pool_rows) == 0:
        raise MiningError("label", "every example is annotated: there is no pool to mine.")
    # One pass over the matrix (a matrix-vector product), then everything works on the pool.
    s_pool = anchor_similarities(vectors, anchor)[pool_rows]
    mu, sigma = fit_normal(s_pool, p, rng)
    in_band = pool_rows[band_mask(s_pool, mu, sigma, band, tails)]
    if n > len(in_band):
        raise BandTooSmall(band=band, n=n, holds=len(in_band))
    draw = draw_from_band(
        in_band, n, rng, vectors, np.asarray(vectors[np.sort(positive_rows)]),
        dedupe_threshold=dedupe_threshold, keys=keys, positive_keys=positive_keys, band=band,
    )
    s_picked = np.asarray(vectors[draw.picked] @ anchor, dtype=np.float32)
    return MiningResult(
        picked=draw.picked, picked_s_an=s_picked, mu=mu, sigma=sigma,
        histogram=histogram(s_pool), pool_size=len(pool_rows), band_size=len(in_band), draw=draw,
    )
