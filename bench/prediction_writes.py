"""Storing a whole-project prediction batch: the ORM's `bulk_create(update_conflicts=True)`
(how predict-all stored rows before issue 21) against `write_predictions` (COPY into a staging
table + one INSERT ... SELECT), same rows, same run.

    nice .venv/bin/python bench/prediction_writes.py [--rows 10000] [--repeat 3]
        [--db vigia_bench_prediction_writes]

Creates and migrates its own database, a project of `--rows` examples posted over a year and a
model version, and `--rows` predictions (scores of 3 labels, thresholded labels: what
embedding_head returns). Each repeat deletes the version's rows and stores them once per way,
interleaved; medians are printed, one figure per line, with their ratio. Both ways run with the
prevalence index's triggers on (its daily counts are part of storing a prediction since issue
21); `write_triggers_share` is the part of `write_predictions` spent in them (the same call
with the triggers disabled, as a reference).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# bench/queue.py would shadow the stdlib `queue`: keep bench/ off sys.path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

from bench.queue import setup_django  # noqa: E402

os.environ.setdefault("VIGIA_SECRET_KEY", "bench-only-key-prediction-writes")
PROJECT_NAME = "bench prediction writes"
LABELS = ("HS", "TR", "AG")
TRIGGERS = ("vigia_index_predictions_insert", "vigia_index_predictions_update")


def ensure_project(n: int):
    from django.db import connection, transaction

    from annotator.models import Label, Project
    from models_zoo.models import ModelVersion

    project = Project.objects.filter(name=PROJECT_NAME).first()
    if project is not None and project.examples.count() == n:
        return project, ModelVersion.objects.get(project=project)
    if project is not None:
        project.delete()
    with transaction.atomic():
        project = Project.objects.create(name=PROJECT_NAME, task_type="multilabel")
        for i, name in enumerate(LABELS):
            Label.objects.create(project=project, name=name, order=i)
        version = ModelVersion.objects.create(
            project=project, backend="embedding_head", artifact_dir="-", labels=list(LABELS),
            is_current=True,
        )
        with connection.cursor() as cur:
            cur.execute(
                """
                INSERT INTO annotator_example (project_id, text, normalized_text, meta, external_id,
                    content_hash, image, queue_key, assigned_count, posted_at, created_at)
                SELECT %s, 'tweet ' || g, 'tweet ' || g, '{}'::jsonb, g::text, md5(g::text), '',
                       random(), 0, timestamptz '2018-01-01' + (g %% 365) * interval '1 day', now()
                FROM generate_series(1, %s) AS g
                """,
                [project.pk, n],
            )
    return project, version


def predictions(n: int):
    from models_zoo.backends.base import ItemPrediction

    rng = random.Random(0)
    out = []
    for _ in range(n):
        scores = {label: rng.random() for label in LABELS}
        out.append(ItemPrediction(scores=scores, labels=[k for k, v in scores.items() if v > 0.7]))
    return out


def orm_bulk_create(version_id: int, ids, preds) -> None:
    """predict_chunk's write before issue 21."""
    from django.db import transaction

    from models_zoo.models import Prediction

    rows = [
        Prediction(
            example_id=e,
            model_version_id=version_id,
            scores={k: float(v) for k, v in p.scores.items()},
            labels=list(p.labels),
            spans=list(p.spans),
            confidence=p.extras.get("confidence"),
        )
        for e, p in zip(ids, preds, strict=True)
    ]
    with transaction.atomic():
        Prediction.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["example", "model_version"],
            update_fields=["scores", "labels", "spans", "confidence"],
            batch_size=2000,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default="vigia_bench_prediction_writes")
    args = parser.parse_args()
    setup_django(args.db)
    from django.db import connection

    from models_zoo.models import Prediction, PredictionDay
    from models_zoo.services.prediction_rows import write_predictions

    project, version = ensure_project(args.rows)
    ids = list(project.examples.order_by("id").values_list("id", flat=True))
    preds = predictions(len(ids))

    def triggers(state: str) -> None:
        with connection.cursor() as cur:
            for name in TRIGGERS:
                cur.execute(f"ALTER TABLE models_zoo_prediction {state} TRIGGER {name}")

    ways = {
        "orm_bulk_create": lambda: orm_bulk_create(version.pk, ids, preds),
        "write_predictions": lambda: write_predictions(version.pk, ids, preds),
        "write_predictions_no_triggers": lambda: write_predictions(version.pk, ids, preds),
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.repeat):
        for name, fn in ways.items():
            Prediction.objects.filter(model_version=version).delete()
            if name.endswith("no_triggers"):
                triggers("DISABLE")
            try:
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
            finally:
                triggers("ENABLE")
            assert Prediction.objects.filter(model_version=version).count() == len(ids)
    # Overwriting every row (a re-run) goes through the same statement's ON CONFLICT branch.
    t0 = time.perf_counter()
    write_predictions(version.pk, ids, preds)
    rerun = time.perf_counter() - t0
    Prediction.objects.filter(model_version=version).delete()
    write_predictions(version.pk, ids, preds)
    counted = sum(PredictionDay.objects.filter(model_version=version).values_list("n", flat=True))
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"rows {len(ids)}")
    print(f"orm_bulk_create_s {med['orm_bulk_create']:.3f}")
    print(f"write_predictions_s {med['write_predictions']:.3f}")
    print(f"write_predictions_vs_orm_bulk_create {med['orm_bulk_create'] / med['write_predictions']:.2f}x")
    print(f"write_predictions_rerun_s {rerun:.3f}")
    print(f"write_predictions_without_triggers_s {med['write_predictions_no_triggers']:.3f}")
    share = 1 - med["write_predictions_no_triggers"] / med["write_predictions"]
    print(f"write_triggers_share {share:.2f}")
    print(f"index_counts_match {'yes' if counted == len(ids) else 'NO'}")
    print(f"load_average_1min {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")


if __name__ == "__main__":
    main()
