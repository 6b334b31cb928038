"""The prevalence index of a project (seed 004, section 4.3): daily share of examples the model
version labels positive, moving average, peaks with their top-scored examples, two versions
compared, and the corrected index (see models_zoo.prevalence for the formulas).

The daily counts come from the aggregate tables PredictionDay and PredictionDayLabel (one row
per version and day, kept by database triggers in the transaction that writes the predictions),
so a request reads O(days) rows whatever the corpus size; everything after that is numpy over
one row per day.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
from typing import Any

import numpy as np
from django.db import connection
from django.db.models.fields.json import KeyTransform

from annotator.models import Annotation, AnnotationSource, Example, Project, SampleMember
from annotator.services.samples import gold_labels
from models_zoo import prevalence as math_
from models_zoo.models import ModelVersion, Prediction, PredictionDayLabel
from models_zoo.prevalence import IndexDelta

logger = logging.getLogger(__name__)

DEFAULT_WINDOW = 7
DEFAULT_PEAK_K = 1.5
MAX_PEAKS = 20
TOP_EXAMPLES = 3
BOOTSTRAP_ROUNDS = 500


class IndexQueryError(ValueError):
    """A request the index cannot answer; `field` names the query parameter."""

    def __init__(self, message: str, field: str, status: int = 400) -> None:
        self.message = message
        self.field = field
        self.status = status
        super().__init__(message)


def _version(project: Project, version_id: int | None, field: str) -> ModelVersion:
    rows = ModelVersion.objects.filter(project=project)
    version = (
        rows.filter(pk=version_id).first() if version_id else rows.filter(is_current=True).first()
    )
    if version is None:
        if version_id:
            raise IndexQueryError(
                f"model version {version_id} is not a version of this project", field
            )
        raise IndexQueryError("the project has no current model version; promote one", field, 409)
    return version


def daily_counts(version_id: int, label: str) -> list[tuple[dt.date, int, int]]:
    """(day, examples predicted, predicted positive) per day with examples, in day order, read
    from the daily aggregate (PredictionDay, PredictionDayLabel): O(days), whatever the number
    of predictions. Database triggers keep it in step with the Prediction rows (models_zoo
    migration 0006)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT d.day, d.n, coalesce(l.positive, 0) FROM models_zoo_predictionday d "
            "LEFT JOIN models_zoo_predictiondaylabel l ON l.model_version_id = d.model_version_id"
            " AND l.label = %s AND l.day = d.day "
            "WHERE d.model_version_id = %s ORDER BY d.day",
            [label, version_id],
        )
        return [(day, int(n), int(positive)) for day, n, positive in cur.fetchall()]


def index_updated(project_id: int, version_id: int, delta: IndexDelta) -> None:
    """Called once a prediction chunk has committed, with the daily counts it changed
    (`delta.as_event()` is the JSON body an `index.updated` notification carries). Logs them."""
    if not delta.days:
        return
    logger.info(
        "index of project %s, model version %s: %s days changed (%s to %s)",
        project_id, version_id, len(delta.days), delta.days[0], delta.days[-1],
    )


def _calendar(rows: list[tuple[dt.date, int, int]]) -> tuple[list[dt.date], np.ndarray, np.ndarray]:
    if not rows:
        return [], np.zeros(0, int), np.zeros(0, int)
    first, last = rows[0][0], rows[-1][0]
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    n = np.zeros(len(days), int)
    pos = np.zeros(len(days), int)
    for d, count, positive in rows:
        i = (d - first).days
        n[i], pos[i] = count, positive
    return days, n, pos


def _series(version_id: int, label: str, window: int) -> dict[str, Any]:
    days, n, pos = _calendar(daily_counts(version_id, label))
    shares = math_.daily_shares(n, pos)
    return {
        "days": days,
        "n": n,
        "positive": pos,
        "share": shares,
        "ma": math_.moving_average(shares, window),
    }


def _f(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def _top_examples(
    project_id: int, version_id: int, label: str, days: list[dt.date]
) -> dict[dt.date, list[dict[str, Any]]]:
    """Per day: the TOP_EXAMPLES best-scored examples the version labels `label` that day,
    from the aggregate's `top` (two small queries for every peak); a day whose `top` is unknown
    (one of them was deleted or re-written since) is counted again from its predictions."""
    tops = dict(
        PredictionDayLabel.objects.filter(
            model_version_id=version_id, label=label, day__in=days
        ).values_list("day", "top")
    )
    ids = {int(eid) for top in tops.values() if top for _, eid in top[:TOP_EXAMPLES]}
    texts = dict(Example.objects.filter(pk__in=ids).values_list("id", "text"))
    out = {}
    for day in days:
        top = tops.get(day)
        if top is None:
            out[day] = _top_examples_counted(project_id, version_id, label, day)
            continue
        out[day] = [
            {"example": int(eid), "text": texts.get(int(eid), "")[:280], "score": score}
            for score, eid in top[:TOP_EXAMPLES]
        ]
    return out


def _top_examples_counted(
    project_id: int, version_id: int, label: str, day: dt.date
) -> list[dict[str, Any]]:
    """The same from the day's predictions: O(examples that day)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    rows = (
        Prediction.objects.filter(
            model_version_id=version_id,
            # The project narrows the day to the (project, posted_at) index.
            example__project_id=project_id,
            example__posted_at__gte=start,
            example__posted_at__lt=start + dt.timedelta(days=1),
            labels__contains=[label],
        )
        .annotate(score=KeyTransform(label, "scores"))
        .order_by(KeyTransform(label, "scores").desc(nulls_last=True), "example_id")
        .values("example_id", "example__text", "score")[:TOP_EXAMPLES]
    )
    return [
        {"example": r["example_id"], "text": r["example__text"][:280], "score": r["score"]}
        for r in rows
    ]


def _labelled_pairs(
    project: Project, version: ModelVersion, label: str, sample_id: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
    """(truth, predicted, weights, source) for the examples with a gold label and a prediction
    by `version`: a sample's members (weighted N_h/n_h), or else every annotated example the
    version did not train on."""
    if sample_id is not None:
        members = dict(
            SampleMember.objects.filter(sample_id=sample_id, sample__project=project).values_list(
                "example_id", "weight"
            )
        )
        if not members:
            raise IndexQueryError(f"sample {sample_id} is not a sample of this project", "sample")
        ids = list(members)
        source = f"sample {sample_id}"
    else:
        trained = set((version.data_snapshot or {}).get("train_example_ids", []))
        annotated = (
            Annotation.objects.filter(example__project=project)
            .exclude(source=AnnotationSource.MODEL)
            .values_list("example_id", flat=True)
            .distinct()
        )
        ids = [eid for eid in annotated if eid not in trained]
        members = None
        source = "annotated examples outside the version's training split"
    gold = gold_labels(project, ids)
    predicted = dict(
        Prediction.objects.filter(model_version=version, example_id__in=list(gold)).values_list(
            "example_id", "labels"
        )
    )
    keys = sorted(set(gold) & set(predicted))
    truth = np.array([label in gold[k] for k in keys], dtype=bool)
    pred = np.array([label in (predicted[k] or []) for k in keys], dtype=bool)
    weights = None if members is None else np.array([members[k] for k in keys], dtype=float)
    return truth, pred, weights, source


def prevalence_index(
    project: Project,
    label: str,
    *,
    version_id: int | None = None,
    window: int = DEFAULT_WINDOW,
    compare: int | None = None,
    peak_method: str = "ratio",
    peak_k: float = DEFAULT_PEAK_K,
    sample_id: int | None = None,
    seed: int = 0,
    rounds: int = BOOTSTRAP_ROUNDS,
) -> dict[str, Any]:
    """The index as the REST API returns it (docs/samples-and-index.md, "Prevalence index")."""
    if label not in set(project.labels.values_list("name", flat=True)):
        raise IndexQueryError(f"unknown label {label!r}", "label")
    if window < 1:
        raise IndexQueryError("window must be at least 1", "window")
    if peak_method not in math_.PEAK_METHODS:
        raise IndexQueryError(f"peaks must be one of {', '.join(math_.PEAK_METHODS)}", "peaks")
    version = _version(project, version_id, "version")
    s = _series(version.pk, label, window)
    days = [
        {
            "date": d.isoformat(),
            "n": int(n),
            "positive": int(p),
            "share": _f(sh),
            "moving_average": _f(ma),
        }
        for d, n, p, sh, ma in zip(
            s["days"], s["n"], s["positive"], s["share"], s["ma"], strict=True
        )
    ]
    peak_idx = math_.find_peaks(s["share"], peak_method, peak_k)
    peak_idx = sorted(sorted(peak_idx, key=lambda i: -s["share"][i])[:MAX_PEAKS])
    top = _top_examples(project.pk, version.pk, label, [s["days"][i] for i in peak_idx])
    peaks = [
        {
            **days[i],
            "ratio_to_mean": _f(s["share"][i] / np.nanmean(s["share"])),
            "top_examples": top[s["days"][i]],
        }
        for i in peak_idx
    ]
    body: dict[str, Any] = {
        "model_version": version.pk,
        "label": label,
        "window": window,
        "days": days,
        "peaks": peaks,
        "peak_rule": {"method": peak_method, "k": peak_k},
        "examples_without_date": _undated(project),
    }
    truth, pred, weights, source = _labelled_pairs(project, version, label, sample_id)
    body["corrected"] = _corrected(
        s["days"], s["share"], truth, pred, weights, source, seed, rounds
    )
    if compare is not None:
        other = _version(project, compare, "compare")
        o = _series(other.pk, label, window)
        mine = dict(zip(s["days"], s["ma"], strict=True))
        theirs = dict(zip(o["days"], o["ma"], strict=True))
        common = sorted(set(mine) & set(theirs))
        r = math_.pearson([mine[d] for d in common], [theirs[d] for d in common])
        body["compare"] = {
            "model_version": other.pk,
            "pearson_r": _f(r) if r is not None else None,
            "days": len(common),
        }
    return body


def _undated(project: Project) -> int:
    return project.examples.filter(posted_at__isnull=True).count()


def _corrected(days, shares, truth, pred, weights, source, seed, rounds) -> dict[str, Any]:
    tpr, fpr = math_.error_rates(truth, pred, weights)
    out: dict[str, Any] = {
        "method": "adjusted classify-and-count (Forman 2008)",
        "labelled": int(len(truth)),
        "labelled_from": source,
        "tpr": _f(tpr),
        "fpr": _f(fpr),
        "days": [],
    }
    if not len(truth) or not truth.any() or truth.all():
        out["problem"] = "the labelled examples need both positives and negatives of the label"
        return out
    if not tpr > fpr:
        out["problem"] = (
            "TPR <= FPR on the labelled examples: the model does not separate the label"
        )
        return out
    adjusted = math_.adjusted_share(shares, tpr, fpr)
    lo, hi = math_.bootstrap_adjusted(
        shares, truth, pred, np.random.default_rng(seed), weights, rounds
    )
    out["days"] = [
        {"date": d.isoformat(), "share": _f(a), "ci95": [_f(lo_), _f(hi_)]}
        for d, a, lo_, hi_ in zip(days, adjusted, lo, hi, strict=True)
    ]
    return out


def index_csv(body: dict[str, Any]) -> str:
    """One row per day: date, n, positive, share, moving_average, corrected share and interval."""
    corrected = {row["date"]: row for row in body["corrected"].get("days", [])}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "date",
            "n",
            "positive",
            "share",
            "moving_average",
            "corrected",
            "corrected_lo",
            "corrected_hi",
        ]
    )
    for day in body["days"]:
        c = corrected.get(day["date"], {})
        ci = c.get("ci95") or [None, None]
        writer.writerow(
            [
                day["date"],
                day["n"],
                day["positive"],
                _cell(day["share"]),
                _cell(day["moving_average"]),
                _cell(c.get("share")),
                _cell(ci[0]),
                _cell(ci[1]),
            ]
        )
    return out.getvalue()


def _cell(v: Any) -> str:
    return "" if v is None else f"{v:.6f}"
