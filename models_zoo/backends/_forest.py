"""A fitted scikit-learn random forest as plain arrays, saved as safetensors (no pickle).

Each tree contributes its `tree_` arrays (children, split feature, threshold) and, per node, the
probability of every project label. The forest is flattened into one set of arrays with global
node ids so prediction walks all trees at once in numpy. Like scikit-learn, inputs are cast to
float32 before the `x[feature] <= threshold` test, so the walk ends in the same leaves and the
probabilities match `RandomForestClassifier.predict_proba`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

_KEYS = ("left", "right", "feature", "threshold", "probs", "roots", "depth")


def _positive_columns(tree_probs: np.ndarray, classes: Any, task_type: str, n_labels: int) -> np.ndarray:
    """(node_count, n_labels) label probabilities from one tree's normalised `value` array."""
    nodes = tree_probs.shape[0]
    out = np.zeros((nodes, n_labels), dtype=np.float64)
    if task_type == "singlelabel":
        # One output whose classes are label indices (only those seen in training).
        for c, label_index in enumerate(np.asarray(classes)):
            out[:, int(label_index)] = tree_probs[:, 0, c]
        return out
    per_output = [np.asarray(classes)] if n_labels == 1 else [np.asarray(c) for c in classes]
    for k, output_classes in enumerate(per_output):
        hits = np.flatnonzero(output_classes == 1)
        if len(hits):
            out[:, k] = tree_probs[:, k, hits[0]]
    return out


def forest_from_sklearn(model: Any, task_type: str, n_labels: int) -> dict[str, np.ndarray]:
    """Flatten a fitted RandomForestClassifier into arrays (see module docstring)."""
    lefts, rights, features, thresholds, probs, roots, depth = [], [], [], [], [], [], 0
    offset = 0
    for estimator in model.estimators_:
        tree = estimator.tree_
        value = np.asarray(tree.value, dtype=np.float64)
        totals = value.sum(axis=2, keepdims=True)
        value = np.divide(value, totals, out=np.zeros_like(value), where=totals > 0)
        left = np.asarray(tree.children_left, dtype=np.int64)
        right = np.asarray(tree.children_right, dtype=np.int64)
        lefts.append(np.where(left >= 0, left + offset, -1))
        rights.append(np.where(right >= 0, right + offset, -1))
        features.append(np.maximum(np.asarray(tree.feature, dtype=np.int64), 0))
        thresholds.append(np.asarray(tree.threshold, dtype=np.float64))
        probs.append(_positive_columns(value, model.classes_, task_type, n_labels))
        roots.append(offset)
        depth = max(depth, int(tree.max_depth))
        offset += int(tree.node_count)
    return {
        "left": np.concatenate(lefts), "right": np.concatenate(rights),
        "feature": np.concatenate(features), "threshold": np.concatenate(thresholds),
        "probs": np.concatenate(probs), "roots": np.asarray(roots, dtype=np.int64),
        "depth": np.asarray([depth], dtype=np.int64),
    }


def forest_predict(forest: dict[str, np.ndarray], x: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Mean over trees of the leaf label probabilities, (n_items, n_labels)."""
    x32 = np.asarray(x, dtype=np.float32)
    roots, left, right = forest["roots"], forest["left"], forest["right"]
    feature, threshold, probs = forest["feature"], forest["threshold"], forest["probs"]
    out = np.zeros((len(x32), probs.shape[1]), dtype=np.float64)
    for start in range(0, len(x32), chunk):
        block = x32[start : start + chunk]
        rows = np.arange(len(block))[:, None]
        node = np.broadcast_to(roots, (len(block), len(roots))).copy()
        for _ in range(int(forest["depth"][0]) + 1):
            leaf = left[node] < 0
            if leaf.all():
                break
            go_left = block[rows, feature[node]] <= threshold[node]
            node = np.where(leaf, node, np.where(go_left, left[node], right[node]))
        out[start : start + chunk] = probs[node].sum(axis=1) / len(roots)
    return out


def save_forest(forest: dict[str, np.ndarray], path: str | Path) -> None:
    from safetensors.numpy import save_file

    save_file({key: np.ascontiguousarray(forest[key]) for key in _KEYS}, str(path),
              metadata={"kind": "random_forest"})


def load_forest(path: str | Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    arrays = load_file(str(path))
    missing = [key for key in _KEYS if key not in arrays]
    if missing:
        raise ValueError(f"{path}: random-forest arrays missing: {missing}")
    return arrays
