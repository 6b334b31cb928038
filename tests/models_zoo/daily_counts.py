"""The prevalence index's daily counts counted directly from the stored predictions, in Python
(independent of the triggers' SQL), and as stored in the aggregate."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from models_zoo.models import Prediction, PredictionDay, PredictionDayLabel


def direct(version_id: int) -> tuple[dict[dt.date, int], dict[tuple[str, dt.date], int]]:
    """Per UTC day: predictions of dated examples, and per (label, day) those labelled it;
    counted in Python from the rows (independent of the triggers' SQL)."""
    n: Counter = Counter()
    positive: Counter = Counter()
    for posted_at, labels in Prediction.objects.filter(model_version_id=version_id).values_list(
        "example__posted_at", "labels"
    ):
        if posted_at is None:
            continue
        day = posted_at.astimezone(dt.UTC).date()
        n[day] += 1
        for label in set(labels):
            positive[(label, day)] += 1
    return dict(n), dict(positive)


def direct_top(version_id: int) -> dict[tuple[str, dt.date], list[list]]:
    """Per (label, day): the 3 best [score, example id] among the predictions labelled it."""
    found: dict[tuple[str, dt.date], list[list]] = {}
    for eid, posted_at, labels, scores in Prediction.objects.filter(
        model_version_id=version_id, example__posted_at__isnull=False
    ).values_list("example_id", "example__posted_at", "labels", "scores"):
        for label in set(labels):
            found.setdefault((label, posted_at.astimezone(dt.UTC).date()), []).append(
                [scores.get(label), eid]
            )
    return {
        key: sorted(rows, key=lambda r: (r[0] is None, -(r[0] or 0), r[1]))[:3]
        for key, rows in found.items()
    }


def stored(version_id: int) -> tuple[dict[dt.date, int], dict[tuple[str, dt.date], int]]:
    n = dict(PredictionDay.objects.filter(model_version_id=version_id).values_list("day", "n"))
    positive = {
        (label, day): count
        for label, day, count in PredictionDayLabel.objects.filter(
            model_version_id=version_id
        ).values_list("label", "day", "positive")
    }
    return n, positive
