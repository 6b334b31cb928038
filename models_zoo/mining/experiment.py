"""Seed 003's comparison as pure code: which negatives make a classifier generalise to an
unseen event? (../shared/seeds/003_43c8cb6e46dbc9f4.txt, "Datasets" and Table 4.)

Each group (e.g. event) is held out in turn. The training set is up to `n_train_positives`
positives of the other groups plus as many negatives drawn from those groups' non-positive pool
in one of four ways: random, or mined in band 1, 2 or 3 (upper tail, near-duplicates of a
training positive excluded). The test set is the held-out group's positives and non-positives
at 1:`test_ratio` (the seed's test_[random+], 1:10). The head is embedding_head's logistic
regression on the same vectors, with that backend's defaults, thresholded at 0.5.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from annotator.mining import algorithm as A
from models_zoo.backends.embedding_head import EmbeddingHeadConfig

SETTINGS = ("random", "1sigma", "2sigma", "3sigma")
Fit = Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]


def fit_logistic_head(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, seed: int) -> np.ndarray:
    """Predicted 0/1 for `x_test` from embedding_head's logistic head (its config defaults)."""
    from sklearn.linear_model import LogisticRegression

    cfg = EmbeddingHeadConfig()
    model = LogisticRegression(
        C=cfg.C, max_iter=cfg.max_iter, random_state=seed,
        class_weight="balanced" if cfg.class_weight == "balanced" else None,
    )
    model.fit(x_train, y_train)
    return (model.predict_proba(x_test)[:, 1] >= 0.5).astype(np.int8)


def binary_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1 of the positive class (0 where undefined)."""
    tp = int(((y_true == 1) & (y_pred == 1)).sum())
    fp = int(((y_true == 0) & (y_pred == 1)).sum())
    fn = int(((y_true == 1) & (y_pred == 0)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _negatives(setting: str, pool_rows: np.ndarray, s_pool: np.ndarray, mu: float, sigma: float,
               n: int, rng: np.random.Generator, vectors: np.ndarray, positives: np.ndarray,
               dedupe_threshold: float) -> tuple[np.ndarray, int]:
    """(rows, band size) of the training negatives for one setting; a band holding fewer than
    n eligible rows gives all of them (the run records how many)."""
    if setting == "random":
        return rng.choice(pool_rows, size=min(n, len(pool_rows)), replace=False), len(pool_rows)
    band = int(setting[0])
    in_band = pool_rows[A.band_mask(s_pool, mu, sigma, band, "upper")]
    if len(in_band) == 0:
        return np.zeros(0, dtype=np.int64), 0
    state = rng.bit_generator.state
    try:
        draw = A.draw_from_band(in_band, min(n, len(in_band)), rng, vectors, positives,
                                dedupe_threshold=dedupe_threshold, band=band)
    except A.BandTooSmall as exc:
        if exc.holds == 0:
            return np.zeros(0, dtype=np.int64), len(in_band)
        rng.bit_generator.state = state
        draw = A.draw_from_band(in_band, exc.holds, rng, vectors, positives,
                                dedupe_threshold=dedupe_threshold, band=band)
    return draw.picked, len(in_band)


def run_negatives_experiment(
    vectors: np.ndarray,
    positive: np.ndarray,
    groups: np.ndarray,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    n_train_positives: int = 864,
    test_ratio: int = 10,
    p: int = A.DEFAULT_P,
    dedupe_threshold: float = A.DEFAULT_DEDUPE_THRESHOLD,
    settings: Sequence[str] = SETTINGS,
    fit: Fit | None = None,
    progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Per (held-out group, seed, setting) precision/recall/F1, and per setting their mean and
    spread: {"runs": [...], "summary": [...], "groups": [...]}."""
    fit = fit or fit_logistic_head
    positive = np.asarray(positive, dtype=bool)
    groups = np.asarray(groups)
    names = sorted(set(groups.tolist()))
    if len(names) < 2:
        raise A.MiningError("group_field", f"need at least 2 groups to hold one out; found {len(names)}.")
    runs: list[dict[str, Any]] = []
    total = len(names) * len(seeds)
    done = 0
    for gi, held_out in enumerate(names):
        inside = groups == held_out
        train_pos_all = np.flatnonzero(positive & ~inside)
        pool_rows = np.flatnonzero(~positive & ~inside)
        test_pos_all = np.flatnonzero(positive & inside)
        test_neg_all = np.flatnonzero(~positive & inside)
        n_test_pos = min(len(test_pos_all), len(test_neg_all) // test_ratio)
        if len(train_pos_all) == 0 or len(pool_rows) < 2 or n_test_pos == 0:
            done += len(seeds)
            continue
        for seed in seeds:
            rng = np.random.default_rng([seed, gi])
            train_pos = train_pos_all
            if len(train_pos) > n_train_positives:
                train_pos = np.sort(rng.choice(train_pos, size=n_train_positives, replace=False))
            positives = np.asarray(vectors[train_pos], dtype=np.float32)
            anchor = A.anchor_vector(positives)
            s_pool = A.anchor_similarities(vectors[pool_rows], anchor)
            mu, sigma = A.fit_normal(s_pool, p, rng)
            test_rng = np.random.default_rng([seed, gi, 99])
            test_rows = np.concatenate([
                test_rng.choice(test_pos_all, size=n_test_pos, replace=False),
                test_rng.choice(test_neg_all, size=n_test_pos * test_ratio, replace=False),
            ])
            y_test = positive[test_rows].astype(np.int8)
            x_test = np.asarray(vectors[test_rows], dtype=np.float32)
            for si, setting in enumerate(settings):
                neg_rows, band_size = _negatives(
                    setting, pool_rows, s_pool, mu, sigma, len(train_pos),
                    np.random.default_rng([seed, gi, si]), vectors, positives, dedupe_threshold,
                )
                row: dict[str, Any] = {
                    "group": held_out, "seed": int(seed), "setting": setting,
                    "train_positives": int(len(train_pos)), "train_negatives": int(len(neg_rows)),
                    "test_positives": int(n_test_pos), "test_negatives": int(n_test_pos * test_ratio),
                    "band_size": int(band_size), "mu": round(mu, 5), "sigma": round(sigma, 5),
                }
                if len(neg_rows) == 0:
                    row.update(precision=None, recall=None, f1=None)
                else:
                    train_rows = np.concatenate([train_pos, neg_rows])
                    y_train = np.concatenate([np.ones(len(train_pos)), np.zeros(len(neg_rows))]).astype(np.int8)
                    y_pred = fit(np.asarray(vectors[train_rows], dtype=np.float32), y_train, x_test, int(seed))
                    row.update({k: round(v, 5) for k, v in binary_scores(y_test, y_pred).items()})
                runs.append(row)
            done += 1
            if progress is not None:
                progress(done / total)
    return {"runs": runs, "summary": summarise(runs, settings), "groups": names}


def summarise(runs: Sequence[dict[str, Any]], settings: Sequence[str] = SETTINGS) -> list[dict[str, Any]]:
    """Mean and standard deviation (over groups and seeds) of each metric per setting, and the
    mean F1 per held-out group."""
    out = []
    for setting in settings:
        rows = [r for r in runs if r["setting"] == setting and r["f1"] is not None]
        entry: dict[str, Any] = {"setting": setting, "runs": len(rows)}
        for metric in ("f1", "precision", "recall"):
            values = np.array([r[metric] for r in rows], dtype=np.float64)
            entry[f"{metric}_mean"] = round(float(values.mean()), 4) if len(values) else None
            entry[f"{metric}_std"] = round(float(values.std()), 4) if len(values) else None
        per_group: dict[str, list[float]] = {}
        for r in rows:
            per_group.setdefault(r["group"], []).append(r["f1"])
        entry["f1_by_group"] = {g: round(float(np.mean(v)), 4) for g, v in sorted(per_group.items())}
        out.append(entry)
    return out
