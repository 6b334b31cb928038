"""Seed 004 on real data (slow: needs ../shared/datasets): a stratified sample by retweet count
with a take-all top stratum sized for a 5% CV on the Trump tweets, and the daily index of an
IDRISI event imported from X API JSON (`created_at`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import numpy as np
import pytest

from annotator.importers import import_file
from annotator.models import Example
from annotator.normalize import content_hash, normalize
from annotator.services.samples import draw_sample
from models_zoo.models import ModelVersion, Prediction
from models_zoo.services.prevalence import prevalence_index

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def test_retweet_count_sample_with_a_take_all_stratum_at_5_percent_cv(project, datasets_dir):
    rows = []
    with open(
        datasets_dir / "trump_tweets" / "trump_tweets.csv", encoding="utf-8", newline=""
    ) as fh:
        for row in csv.DictReader(fh):
            if not (row.get("Retweets") or "").isdigit():
                continue  # the one broken row (stray quote) the importer reports
            text = row["Text"]
            clean = normalize(text, project.normalization) or text
            rows.append(
                Example(
                    project=project,
                    text=text,
                    normalized_text=clean,
                    content_hash=content_hash(f"{len(rows)}:{clean}"),
                    meta={"retweet_count": int(row["Retweets"])},
                )
            )
    Example.objects.bulk_create(rows, batch_size=5000)
    design = {
        "field": "retweet_count",
        "boundaries": [5000, 10000, 20000],
        "take_all_above": 50000,
        "target_cv": 0.05,
        "expected_p": 0.34,
        "seed": 2018,
    }
    sample = draw_sample(project, design)
    strata = {s["name"]: s for s in sample.strata}
    top = strata[">= 50000 (take-all)"]
    assert top["take_all"] and top["size"] == top["population"] > 0
    assert sum(s["population"] for s in sample.strata) == len(rows)
    # Reaches the target: the anticipated CV of the drawn allocation is at most 5%.
    w = np.array([s["population"] for s in sample.strata], float) / len(rows)
    n = np.array([s["size"] for s in sample.strata], float)
    big_n = np.array([s["population"] for s in sample.strata], float)
    s2 = big_n / (big_n - 1) * 0.34 * 0.66
    cv = np.sqrt((w**2 * (1 - n / big_n) * s2 / n).sum()) / 0.34
    assert cv <= 0.05
    print(
        f"\ntrump: N={len(rows)} n={sample.size} strata="
        f"{[(s['name'], s['population'], s['size']) for s in sample.strata]} cv={cv:.4f}"
    )
    again = draw_sample(project, design)
    assert list(again.members.order_by("example_id").values_list("example_id", flat=True)) == list(
        sample.members.order_by("example_id").values_list("example_id", flat=True)
    )


def test_idrisi_created_at_feeds_the_daily_index(project, datasets_dir):
    path = (
        datasets_dir / "idrisi_r" / "gold-random-json" / "california_wildfires_2018" / "train.jsonl"
    )
    records = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    result = import_file(
        project,
        io.BytesIO(path.read_bytes()),
        "jsonl",
        mapping={
            "text": "text",
            "id": "tweet_id",
            "meta": {"created_at": "created_at", "humaid": "humAID_class"},
        },
    )
    assert result.imported > 100
    examples = list(Example.objects.filter(project=project))
    assert all(e.posted_at is not None for e in examples)
    by_id = {r["tweet_id"]: r for r in records}
    sample = examples[0]
    assert sample.posted_at == dt.datetime.strptime(
        by_id[sample.external_id]["created_at"], "%a %b %d %H:%M:%S %z %Y"
    )
    version = ModelVersion.objects.create(
        project=project,
        backend="embedding_head",
        artifact_dir="/x",
        labels=["HS", "TR", "AG"],
        is_current=True,
    )
    Prediction.objects.bulk_create(
        Prediction(
            example=e,
            model_version=version,
            scores={"HS": 1.0},
            labels=["HS"] if e.meta.get("humaid") == "requests_or_urgent_needs" else [],
        )
        for e in examples
    )
    body = prevalence_index(project, "HS")
    direct: dict[str, list[int]] = {}
    for e in examples:
        c = direct.setdefault(e.posted_at.date().isoformat(), [0, 0])
        c[0] += 1
        c[1] += e.meta.get("humaid") == "requests_or_urgent_needs"
    got = {d["date"]: [d["n"], d["positive"]] for d in body["days"] if d["n"]}
    assert got == direct
    print(
        f"\nidrisi california 2018: {len(examples)} tweets over {len(body['days'])} days, "
        f"peaks {[p['date'] for p in body['peaks']]}"
    )
