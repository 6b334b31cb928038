"""Prevalence index over N predicted examples (default 1M) in PostgreSQL, and bytes per stored
prediction row.

    .venv/bin/python bench/index.py [--examples 1000000] [--days 365] [--db vigia_bench_index]

Creates (once) and migrates its own database, generates the examples (posted_at over `days`
days) and one Prediction per example (scores for 3 labels, ~30% labelled HS) with INSERT ...
SELECT FROM generate_series (the index triggers fill the daily counts as they go), then times
`daily_counts` (since issue 21 a read of the daily aggregate, O(days)) and the whole
`prevalence_index` answer. Reference in the same run: a bare `SELECT count(*)` of the version's
predictions joined to their examples (the O(rows) work the index did before). Prints one figure
per line. bench/corpus.py measures the index at 20M against a bare read of the aggregate.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.queue import setup_django  # noqa: E402

PROJECT_NAME = "bench index"


def ensure_data(n: int, days: int):
    from django.db import connection, transaction

    from annotator.models import Label, Project
    from models_zoo.models import ModelVersion

    project = Project.objects.filter(name=PROJECT_NAME).first()
    if project is not None and project.examples.count() == n:
        return project, ModelVersion.objects.get(project=project, is_current=True)
    if project is not None:
        project.delete()
    t0 = time.perf_counter()
    with transaction.atomic():
        project = Project.objects.create(name=PROJECT_NAME, task_type="multilabel")
        for i, name in enumerate(("HS", "TR", "AG")):
            Label.objects.create(project=project, name=name, order=i)
        version = ModelVersion.objects.create(
            project=project,
            backend="embedding_head",
            artifact_dir="/none",
            labels=["HS", "TR", "AG"],
            is_current=True,
        )
        with connection.cursor() as cur:
            cur.execute(
                """
                INSERT INTO annotator_example (project_id, text, normalized_text, meta, external_id,
                    content_hash, image, queue_key, assigned_count, posted_at, created_at)
                SELECT %s, 'tweet ' || g || ' about migrants and the news of the day',
                       'tweet ' || g || ' about migrants and the news of the day',
                       jsonb_build_object('retweet_count', g %% 97), g::text, md5(g::text), '',
                       random(), 0,
                       timestamptz '2018-01-01' + ((g %% %s) || ' days')::interval
                         + ((g %% 86400) || ' seconds')::interval,
                       now()
                FROM generate_series(1, %s) AS g
                """,
                [project.pk, days, n],
            )
            cur.execute(
                """
                INSERT INTO models_zoo_prediction (example_id, model_version_id, scores, labels, spans, created_at)
                SELECT e.id, %s,
                       jsonb_build_object('HS', round(r::numeric, 4), 'TR', round((1 - r)::numeric, 4),
                                          'AG', round((r / 2)::numeric, 4)),
                       CASE WHEN r > 0.7 THEN '["HS"]'::jsonb ELSE '[]'::jsonb END, '[]'::jsonb, now()
                FROM (SELECT id, random() AS r FROM annotator_example WHERE project_id = %s) e
                """,
                [version.pk, project.pk],
            )
    with connection.cursor() as cur:
        cur.execute("ANALYZE annotator_example")
        cur.execute("ANALYZE models_zoo_prediction")
    print(
        f"generated {n} examples and predictions in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )
    return project, version


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default="vigia_bench_index")
    args = parser.parse_args()
    setup_django(args.db)
    from django.db import connection

    from models_zoo.services.prevalence import daily_counts, prevalence_index

    project, version = ensure_data(args.examples, args.days)

    def reference() -> None:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM models_zoo_prediction p JOIN annotator_example e "
                "ON e.id = p.example_id WHERE p.model_version_id = %s AND e.posted_at IS NOT NULL",
                [version.pk],
            )
            cur.fetchone()

    ref = timed(reference, args.repeat)
    grouped = timed(lambda: daily_counts(version.pk, "HS"), args.repeat)
    whole = timed(lambda: prevalence_index(project, "HS", rounds=500), args.repeat)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_total_relation_size('models_zoo_prediction'), count(*), "
            "avg(pg_column_size(p.*)) FROM models_zoo_prediction p"
        )
        total_bytes, rows, avg_row = cur.fetchone()
    print(f"index_examples {args.examples}")
    print(f"index_days {args.days}")
    print(f"reference_count_join_s {ref:.3f}")
    print(f"daily_counts_s {grouped:.3f}")
    print(f"daily_counts_vs_count_join {grouped / ref:.2f}x")
    print(f"prevalence_index_s {whole:.3f}")
    print(f"prevalence_index_vs_count_join {whole / ref:.2f}x")
    print(f"prediction_row_bytes_avg {float(avg_row):.0f}")
    print(f"prediction_table_bytes_per_row_with_indexes {total_bytes / rows:.0f}")


if __name__ == "__main__":
    main()
