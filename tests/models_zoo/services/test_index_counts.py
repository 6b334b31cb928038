"""The prevalence index's daily aggregate (PredictionDay, PredictionDayLabel) equals a direct
count of the stored predictions after chunks, re-runs, deletions of examples, projects and
versions, a second version, and an example whose posted_at moves; and the chunk's IndexDelta
is what the aggregate gained."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from annotator.models import Example
from annotator.services.example_edits import update_example
from models_zoo.backends.base import ItemPrediction
from models_zoo.models import ModelVersion, Prediction, PredictionDay, PredictionDayLabel
from models_zoo.prevalence import index_delta
from models_zoo.services import chunked_prediction, prevalence
from models_zoo.services.browse_bulk import Selection, delete_examples
from models_zoo.services.prediction_rows import write_predictions
from models_zoo.services.prevalence import daily_counts
from tests.conftest import make_project
from tests.models_zoo.chunk_fixtures import tiny_artifact
from tests.models_zoo.daily_counts import direct, direct_top, stored
from tests.models_zoo.prediction_fixtures import make_version

pytestmark = pytest.mark.django_db

D0 = dt.datetime(2019, 3, 1, 22, 30, tzinfo=dt.UTC)
LABELS = ("HS", "TR", "AG")


@pytest.fixture
def tiny_project(owner):
    return make_project(owner, labels=LABELS)


def add_examples(project, n: int, start: int = 0) -> list[Example]:
    """Examples `start`..`start + n - 1` spread over 5 days (5 hours apart, so they cross
    midnight UTC); every 7th has no posted_at."""
    return Example.objects.bulk_create(
        Example(
            project=project,
            text=f"tweet {i} about the flood",
            normalized_text=f"tweet {i} about the flood",
            content_hash=f"{project.pk}-{i}",
            posted_at=None if i % 7 == 3 else D0 + dt.timedelta(hours=5 * i % 120),
        )
        for i in range(start, start + n)
    )


def assert_aggregate_matches(*versions: ModelVersion) -> None:
    for version in versions:
        assert stored(version.pk) == direct(version.pk)
        # The kept top examples, where known, are the best-scored positives of their day.
        expected = direct_top(version.pk)
        for label, day, top in PredictionDayLabel.objects.filter(
            model_version=version, top__isnull=False
        ).values_list("label", "day", "top"):
            assert top == expected[(label, day)], (label, day)
    # Counts that reached zero leave no row behind (the index's calendar starts at the first
    # and ends at the last day with predictions).
    assert not PredictionDay.objects.filter(n__lte=0).exists()
    assert not PredictionDayLabel.objects.filter(positive__lte=0).exists()


def prediction(labels, score: float = 0.9) -> ItemPrediction:
    return ItemPrediction(
        scores={k: score if k in labels else 0.1 for k in LABELS}, labels=list(labels)
    )


def write(version, examples, labels_of) -> int:
    """Predictions for `examples`; scores differ by position so the top examples are ordered."""
    return write_predictions(
        version.pk,
        [e.pk for e in examples],
        [prediction(labels_of(i), 0.5 + (i * 37 % 50) / 100) for i in range(len(examples))],
    )


def run_job(project, version, chunk_size: int = 8) -> None:
    job = chunked_prediction.start_prediction_job(project, version.pk, chunk_size)
    for chunk_id in job.chunks.order_by("index").values_list("id", flat=True):
        chunked_prediction.predict_chunk(chunk_id)


def test_chunks_of_two_versions_fill_the_aggregate_as_a_direct_count(tiny_project):
    examples = add_examples(tiny_project, 30)
    v1 = make_version(tiny_project, tiny_artifact(), current=True)
    v2 = make_version(tiny_project, tiny_artifact())
    run_job(tiny_project, v1)
    assert Prediction.objects.filter(model_version=v1).count() == 30
    assert_aggregate_matches(v1)
    undated = sum(e.posted_at is None for e in examples)
    assert sum(stored(v1.pk)[0].values()) == 30 - undated > 0
    # A second version: its own rows, the first version's untouched.
    before = stored(v1.pk)
    run_job(tiny_project, v2, chunk_size=11)
    assert_aggregate_matches(v1, v2)
    assert stored(v1.pk) == before and stored(v2.pk)[0] == before[0]


def test_the_index_reads_the_aggregate(tiny_project):
    examples = add_examples(tiny_project, 20)
    v1 = make_version(tiny_project, tiny_artifact(), current=True)
    write(v1, examples, lambda i: ["HS"] if i % 3 == 0 else [])
    n, positive = direct(v1.pk)
    assert daily_counts(v1.pk, "HS") == [
        (day, n[day], positive.get(("HS", day), 0)) for day in sorted(n)
    ]
    assert [row[2] for row in daily_counts(v1.pk, "TR")] == [0] * len(n)


def test_re_runs_move_labels_and_keep_counts(tiny_project):
    examples = add_examples(tiny_project, 24)
    v1 = make_version(tiny_project, tiny_artifact(), current=True)
    write(v1, examples, lambda i: ["HS", "TR"] if i % 2 else ["AG"])
    assert_aggregate_matches(v1)
    # Overwrite half of them with other labels (a re-run), and duplicate labels in one row.
    assert write(v1, examples[:12], lambda i: ["TR", "TR"] if i % 3 else []) == 12
    assert_aggregate_matches(v1)
    assert Prediction.objects.filter(model_version=v1).count() == 24
    # "keep" leaves existing rows (and their counts) alone and inserts the rest.
    more = add_examples(tiny_project, 6, start=24)
    kept = write_predictions(
        v1.pk,
        [e.pk for e in examples[:4] + more],
        [prediction(["HS"]) for _ in range(4 + len(more))],
        "keep",
    )
    assert kept == len(more)
    assert_aggregate_matches(v1)


def test_two_writes_in_one_transaction_and_a_rolled_back_write(tiny_project):
    examples = add_examples(tiny_project, 10)
    v1 = make_version(tiny_project, tiny_artifact(), current=True)
    with transaction.atomic():
        write(v1, examples[:5], lambda i: ["HS"])
        write(v1, examples[5:], lambda i: ["TR"])
    assert Prediction.objects.filter(model_version=v1).count() == 10
    assert_aggregate_matches(v1)
    before = stored(v1.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        write(v1, examples, lambda i: ["AG"])
        raise RuntimeError("the chunk failed after writing")
    assert stored(v1.pk) == before
    assert_aggregate_matches(v1)


def test_deleting_examples_a_version_and_the_project_keeps_it_exact(tiny_project, owner):
    examples = add_examples(tiny_project, 40)
    v1 = make_version(tiny_project, tiny_artifact(), current=True)
    v2 = make_version(tiny_project, tiny_artifact())
    write(v1, examples, lambda i: ["HS"] if i % 4 == 0 else ["TR"])
    write(v2, examples[:30], lambda i: ["AG"])
    examples[0].delete()
    delete_examples(tiny_project, Selection(ids=tuple(e.pk for e in examples[1:9])))
    assert_aggregate_matches(v1, v2)
    # A day whose examples are all gone has no row left.
    day = examples[30].posted_at.date()
    assert PredictionDay.objects.filter(model_version=v1, day=day).exists()
    Example.objects.filter(project=tiny_project, posted_at__date=day).delete()
    assert_aggregate_matches(v1, v2)
    assert not PredictionDay.objects.filter(model_version=v1, day=day).exists()
    v2.delete()
    assert not PredictionDay.objects.filter(model_version_id=v2.pk).exists()
    assert_aggregate_matches(v1)
    other = make_project(owner, labels=LABELS)
    w = make_version(other, tiny_artifact(), current=True)
    write(w, add_examples(other, 6), lambda i: ["HS"])
    tiny_project.delete()
    assert not PredictionDay.objects.filter(model_version_id=v1.pk).exists()
    assert not PredictionDayLabel.objects.filter(model_version_id=v1.pk).exists()
    assert_aggregate_matches(w)


def test_an_example_whose_posted_at_moves_takes_its_predictions_along(tiny_project):
    examples = add_examples(tiny_project, 12)
    v1 = make_version(tiny_project, tiny_artifact(), current=True)
    v2 = make_version(tiny_project, tiny_artifact())
    write(v1, examples, lambda i: ["HS"])
    write(v2, examples, lambda i: ["TR"] if i % 2 else [])
    update_example(examples[0], meta={"created_at": "2021-07-04T10:00:00Z"})
    undated = next(e for e in examples if e.posted_at is None)
    update_example(undated, meta={"created_at": "2021-07-05T10:00:00Z"})
    update_example(examples[1], meta={})  # no date any more: out of the index
    assert_aggregate_matches(v1, v2)
    assert PredictionDay.objects.get(model_version=v1, day=dt.date(2021, 7, 4)).n == 1
    # Another field changing fires nothing: the counts stay.
    before = stored(v1.pk)
    Example.objects.filter(project=tiny_project).update(assigned_count=1)
    assert stored(v1.pk) == before


def test_the_chunk_delta_is_what_the_aggregate_gained(tiny_project):
    add_examples(tiny_project, 20)
    v1 = make_version(tiny_project, tiny_artifact(), current=True)
    job = chunked_prediction.start_prediction_job(tiny_project, v1.pk, 20)
    chunk = job.chunks.get()
    examples = list(Example.objects.filter(project=tiny_project).order_by("id"))
    chunked_prediction.predict_chunk(chunk.pk)
    rows = dict(Prediction.objects.filter(model_version=v1).values_list("example_id", "labels"))
    delta = index_delta((e.posted_at, rows[e.pk]) for e in examples)
    assert (delta.n, delta.positive) == stored(v1.pk)


def test_index_delta_counts_dated_predictions_by_utc_day():
    cet = dt.timezone(dt.timedelta(hours=1))
    delta = index_delta(
        [
            (dt.datetime(2020, 1, 1, 23, 30, tzinfo=dt.UTC), ["HS", "HS"]),
            (dt.datetime(2020, 1, 2, 0, 30, tzinfo=cet), ["HS", "TR"]),  # 2020-01-01 23:30 UTC
            (dt.datetime(2020, 1, 2, 8, 0, tzinfo=dt.UTC), []),
            (None, ["HS"]),
        ]
    )
    jan1, jan2 = dt.date(2020, 1, 1), dt.date(2020, 1, 2)
    assert delta.n == {jan1: 2, jan2: 1}
    assert delta.positive == {("HS", jan1): 2, ("TR", jan1): 1}
    assert delta.days == [jan1, jan2]
    assert delta.as_event() == {
        "days": [
            {"date": "2020-01-01", "n": 2, "positive": {"HS": 2, "TR": 1}},
            {"date": "2020-01-02", "n": 1, "positive": {}},
        ]
    }


def test_write_predictions_refuses_misaligned_rows(tiny_project):
    v1 = make_version(tiny_project, tiny_artifact(), current=True)
    with pytest.raises(ValueError, match="2 example ids for 1 predictions"):
        write_predictions(v1.pk, [1, 2], [prediction(["HS"])])
    assert write_predictions(v1.pk, [], []) == 0


def test_peaks_show_the_best_scored_positives_also_after_one_of_them_goes(tiny_project):
    examples = add_examples(tiny_project, 60)
    v1 = make_version(tiny_project, tiny_artifact(), current=True)
    write(v1, examples, lambda i: ["HS"])
    day = examples[30].posted_at.date()
    (top,) = PredictionDayLabel.objects.filter(model_version=v1, label="HS", day=day).values_list(
        "top", flat=True
    )
    assert top == direct_top(v1.pk)[("HS", day)] and len(top) == 3
    days = [day]
    shown = prevalence._top_examples(tiny_project.pk, v1.pk, "HS", days)[day]
    assert [t["example"] for t in shown] == [eid for _, eid in top]
    assert shown[0]["text"] == Example.objects.get(pk=top[0][1]).text
    # The best one goes: the kept top is unknown now, and the index recounts that day.
    Example.objects.filter(pk=top[0][1]).delete()
    assert PredictionDayLabel.objects.get(model_version=v1, label="HS", day=day).top is None
    shown = prevalence._top_examples(tiny_project.pk, v1.pk, "HS", days)[day]
    expected = direct_top(v1.pk)[("HS", day)]
    assert [[t["score"], t["example"]] for t in shown] == expected
    # New predictions that day do not make an unknown top known (they cannot know what left).
    more = add_examples(tiny_project, 1, start=102)  # 5 x 102 = 30 (mod 120) hours, as #30
    assert more[0].posted_at.date() == day
    write(v1, more, lambda i: ["HS"])
    assert PredictionDayLabel.objects.get(model_version=v1, label="HS", day=day).top is None
    assert_aggregate_matches(v1)
