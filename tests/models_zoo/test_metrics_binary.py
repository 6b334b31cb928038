from __future__ import annotations

import numpy as np

from models_zoo.metrics import classification_metrics


def test_a_one_label_project_is_scored_on_its_positive_class():
    y_true = np.array([[1], [1], [0], [0], [0], [0]])
    y_pred = np.array([[1], [0], [0], [0], [0], [1]])
    scores = np.array([[0.9], [0.4], [0.1], [0.2], [0.3], [0.8]])
    metrics = classification_metrics(y_true, scores, y_pred, ["on-topic"])
    positive = metrics["per_class"]["on-topic"]
    assert positive["support"] == 2
    assert positive["precision"] == 0.5 and positive["recall"] == 0.5
    assert metrics["f1_macro"] == metrics["f1_micro"] == 0.5
