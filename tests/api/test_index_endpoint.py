"""GET /projects/{id}/index: daily shares against counts computed directly from the stored
predictions, the moving average, peaks, two versions compared, the corrected index, CSV; and
Example.posted_at filled at import."""

from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotator.models import Example
from models_zoo.models import ModelVersion, Prediction
from tests.api.factories import annotate, make_example

pytestmark = pytest.mark.django_db

D0 = dt.datetime(2018, 6, 1, 9, 30, tzinfo=dt.UTC)
# Per example: (day offset, HS predicted by v1, HS predicted by v2). Day 2 has no tweets.
PLAN = (
    [(0, True, True)] * 1
    + [(0, False, False)] * 3  # day 0: 1/4
    + [(1, True, True)] * 2
    + [(1, False, True)] * 2  # day 1: 2/4 (v2 4/4)
    + [(3, True, True)] * 3
    + [(3, False, False)] * 1  # day 3: 3/4
    + [(4, False, False)] * 4  # day 4: 0/4
    + [(5, True, True)] * 4  # day 5: 4/4, the peak
)


def version(project, current: bool) -> ModelVersion:
    return ModelVersion.objects.create(
        project=project,
        backend="embedding_head",
        artifact_dir="/nonexistent",
        labels=["HS", "TR", "AG"],
        is_current=current,
    )


@pytest.fixture
def predicted(project):
    v1, v2 = version(project, True), version(project, False)
    examples = []
    for i, (day, hs1, hs2) in enumerate(PLAN):
        ex = make_example(project, f"tweet {i}", posted_at=D0 + dt.timedelta(days=day, minutes=i))
        examples.append(ex)
        for v, hs in ((v1, hs1), (v2, hs2)):
            Prediction.objects.create(
                example=ex,
                model_version=v,
                labels=["HS"] if hs else [],
                scores={"HS": 0.9 - i / 100 if hs else 0.1, "TR": 0.0, "AG": 0.0},
            )
    make_example(project, "no date at all")
    return v1, v2, examples


def get(api, project, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.get(f"/api/v1/projects/{project.pk}/index?{query}")


def direct_counts(version_id: int, label: str) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = {}
    for p in Prediction.objects.filter(model_version_id=version_id).select_related("example"):
        if p.example.posted_at is None:
            continue
        c = counts.setdefault(p.example.posted_at.date().isoformat(), [0, 0])
        c[0] += 1
        c[1] += label in p.labels
    return {d: (n, pos) for d, (n, pos) in counts.items()}


def test_daily_shares_match_counts_from_the_stored_predictions(project, predicted, viewer_api):
    v1, _, _ = predicted
    res = get(viewer_api, project, label="HS", window=2)
    assert res.status_code == 200, res.json()
    body = res.json()
    assert body["model_version"] == v1.pk and body["examples_without_date"] == 1
    direct = direct_counts(v1.pk, "HS")
    days = {d["date"]: d for d in body["days"]}
    assert list(days) == [
        "2018-06-01",
        "2018-06-02",
        "2018-06-03",
        "2018-06-04",
        "2018-06-05",
        "2018-06-06",
    ]
    for date, (n, pos) in direct.items():
        assert (days[date]["n"], days[date]["positive"]) == (n, pos)
        assert days[date]["share"] == pytest.approx(pos / n)
    assert days["2018-06-03"] == {
        "date": "2018-06-03",
        "n": 0,
        "positive": 0,
        "share": None,
        "moving_average": 0.5,
    }
    # Trailing 2-day mean over the days that have tweets.
    assert [d["moving_average"] for d in body["days"]] == pytest.approx(
        [0.25, 0.375, 0.5, 0.75, 0.375, 0.5]
    )


def test_peaks_are_days_above_k_times_the_mean_with_top_examples(project, predicted, viewer_api):
    _, _, examples = predicted
    body = get(viewer_api, project, label="HS", k=1.5).json()
    # mean share = (.25 + .5 + .75 + 0 + 1) / 5 = .5; above .75: only day 5.
    assert [p["date"] for p in body["peaks"]] == ["2018-06-06"]
    top = body["peaks"][0]["top_examples"]
    assert [t["example"] for t in top] == [examples[16].pk, examples[17].pk, examples[18].pk]
    assert top[0]["score"] == pytest.approx(0.9 - 16 / 100)
    z = get(viewer_api, project, label="HS", peaks="z", k=1).json()
    assert [p["date"] for p in z["peaks"]] == ["2018-06-06"]  # z(1.0) = .5 / .3536 = 1.41


def test_compare_gives_the_pearson_r_of_the_moving_averages(project, predicted, viewer_api):
    v1, v2, _ = predicted
    body = get(viewer_api, project, label="HS", window=1, compare=v2.pk).json()
    a = np.array([0.25, 0.5, 0.75, 0.0, 1.0])
    b = np.array([0.25, 1.0, 0.75, 0.0, 1.0])
    assert body["compare"]["model_version"] == v2.pk and body["compare"]["days"] == 6
    assert body["compare"]["pearson_r"] == pytest.approx(np.corrcoef(a, b)[0, 1], abs=1e-6)
    other = get(viewer_api, project, label="HS", version=v2.pk).json()
    assert other["model_version"] == v2.pk and other["days"][1]["share"] == 1.0


def test_the_corrected_index_uses_the_labelled_examples_error_rates(
    project, predicted, annotator_user, viewer_api
):
    _, _, examples = predicted
    # Gold on 8 examples: 4 truly HS of which v1 flags 3 (TPR .75); 4 not HS of which v1 flags 1 (FPR .25).
    gold = {0: True, 4: True, 8: True, 1: True, 2: False, 3: False, 12: False, 5: False}
    for i, hs in gold.items():
        annotate(examples[i], annotator_user, ["HS"] if hs else ["TR"])
    body = get(viewer_api, project, label="HS").json()
    corrected = body["corrected"]
    assert (corrected["labelled"], corrected["tpr"], corrected["fpr"]) == (8, 0.75, 0.25)
    shares = [0.25, 0.5, None, 0.75, 0.0, 1.0]
    expected = [None if s is None else min(1, max(0, (s - 0.25) / 0.5)) for s in shares]
    assert [d["share"] is None for d in corrected["days"]] == [e is None for e in expected]
    for d, e in zip(corrected["days"], expected, strict=True):
        if e is not None:
            assert d["share"] == pytest.approx(e)
            lo, hi = d["ci95"]
            assert lo <= d["share"] <= hi
    assert corrected["days"][1]["ci95"][0] < 0.5 < corrected["days"][1]["ci95"][1]


def test_csv_has_one_row_per_day(project, predicted, viewer_api):
    res = get(viewer_api, project, label="HS", format="csv")
    assert res.status_code == 200 and res["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(res.content.decode())))
    assert [r["date"] for r in rows][:2] == ["2018-06-01", "2018-06-02"]
    assert (rows[0]["n"], rows[0]["positive"], rows[0]["share"]) == ("4", "1", "0.250000")
    assert rows[2]["share"] == ""


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "label"),
        ({"label": "XX"}, "label"),
        ({"label": "HS", "window": "a"}, "window"),
        ({"label": "HS", "window": 0}, "window"),
        ({"label": "HS", "version": 99999}, "version"),
        ({"label": "HS", "peaks": "max"}, "peaks"),
        ({"label": "HS", "compare": 99999}, "compare"),
    ],
)
def test_bad_queries_get_400_naming_the_parameter(project, predicted, viewer_api, params, field):
    res = get(viewer_api, project, **params)
    assert res.status_code == 400 and field in res.json(), res.json()


def test_without_a_current_version_it_is_409(project, viewer_api, outsider_api):
    assert get(viewer_api, project, label="HS").status_code == 409
    assert get(outsider_api, project, label="HS").status_code == 404


@pytest.mark.parametrize(
    "body", ["id,text,created_at\n1,first tweet,Sun Nov 11 05:54:01 +0000 2018\n2,second one,\n"]
)
def test_import_fills_posted_at_from_the_date_column(project, owner_api, body):
    res = owner_api.post(
        f"/api/v1/projects/{project.pk}/import",
        {"file": SimpleUploadedFile("t.csv", body.encode()), "format": "csv"},
        format="multipart",
    )
    assert res.status_code == 201, res.json()
    got = dict(Example.objects.filter(project=project).values_list("external_id", "posted_at"))
    assert got == {"1": dt.datetime(2018, 11, 11, 5, 54, 1, tzinfo=dt.UTC), "2": None}
