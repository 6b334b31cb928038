"""Data browser page latency at 1M examples in PostgreSQL.

    .venv/bin/python bench/browse.py [--rows 1000000] [--iterations 30] [--db vigia_bench_browse]

Creates (once) and migrates its own database and bulk-generates the examples in SQL (one
INSERT ... SELECT FROM generate_series, the fast path the queue bench uses; the two GIN indexes
are dropped during the load and rebuilt after, as a bulk load would), with a tenth of them
annotated (labels HS/TR/AG) and a current model version predicting all of them. Then times
`models_zoo.services.browse.browse_page` (one page of 50 plus the capped match count, what the
page and `GET /browse` run) for: no filter, full-text search, a label filter, a score range, a
metadata filter and sort by date, over random pages 1-20. Reference in the same run: the bare
`SELECT id FROM annotator_example WHERE project_id = %s ORDER BY id LIMIT 50 OFFSET ...` page.
Prints p50/p95 in ms and the p95 ratio to the reference, for random OFFSET pages (a typed
`?page=N`) and, for id sorts, for pages 1-20 reached by the page's Next links (keyset: `after` the
last id shown). Goal: p95 under 300 ms per page.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("VIGIA_SECRET_KEY", "bench-only-key-browse")
BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# bench/queue.py would shadow the stdlib `queue`: keep bench/ off sys.path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

PROJECT_NAME = "bench browse"
WORDS = ["flood", "river", "storm", "help", "rescue", "bridge", "rain", "power", "school",
         "road", "fire", "smoke", "shelter", "water", "food", "police", "traffic", "night",
         "city", "village", "zorro", "lluvia", "ayuda", "calle", "agua"]
SCENARIOS = [
    ("no_filter", {}),
    ("full_text", {"q": "zorro"}),
    ("full_text_two_words", {"q": "rescue bridge"}),
    ("label", {"label": "HS"}),
    ("score_range", {"score_label": "HS", "score_min": "0.9", "score_max": "0.95"}),
    ("metadata", {"meta": "lang=es"}),
    ("sort_by_date", {"sort": "posted_at"}),
    ("sort_by_date_desc", {"sort": "-posted_at"}),
]


def setup_django(db: str) -> None:
    import psycopg

    base = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
            conn.execute(f'CREATE DATABASE "{db}"')
    os.environ["DATABASE_URL"] = f"{base}/{db}"
    os.environ.setdefault("VIGIA_DEBUG", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def ensure_project(rows: int):
    from django.db import connection, transaction

    from annotator.models import Label, Project
    from models_zoo.models import ModelVersion

    project = Project.objects.filter(name=PROJECT_NAME).first()
    if project is not None and project.examples.count() == rows:
        return project
    if project is not None:
        project.delete()
    with transaction.atomic():
        project = Project.objects.create(name=PROJECT_NAME, task_type="multilabel")
        for i, name in enumerate(["HS", "TR", "AG"]):
            Label.objects.create(project=project, name=name, shortcut="qwe"[i], order=i)
        version = ModelVersion.objects.create(project=project, backend="bench", artifact_dir="-",
                                              labels=["HS", "TR", "AG"], is_current=True,
                                              thresholds={"HS": 0.5, "TR": 0.5, "AG": 0.5})
    t0 = time.perf_counter()
    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
    n = len(WORDS)
    with connection.cursor() as cur:
        cur.execute("DROP INDEX IF EXISTS example_text_fts")
        cur.execute("DROP INDEX IF EXISTS example_meta_gin")
        cur.execute("DROP INDEX IF EXISTS example_posted_desc")
        cur.execute(
            f"""
            INSERT INTO annotator_example (project_id, text, normalized_text, meta, external_id,
                content_hash, image, queue_key, assigned_count, posted_at, created_at)
            SELECT %s, t, lower(t),
                   jsonb_build_object('lang', (ARRAY['en','en','en','es','it'])[1 + g %% 5],
                                      'retweet_count', g %% 97),
                   g::text, md5(g::text), '', random(), 0,
                   timestamptz '2023-01-01' + (g * 17 %% 63072000) * interval '1 second', now()
            FROM (SELECT g, 'Tweet ' || g || ' ' || ({words})[1 + g %% {n}] || ' '
                         || ({words})[1 + (g / 7) %% {n}] || ' '
                         || ({words})[1 + (g / 49) %% {n}] || ' near the ' || ({words})[1 + (g / 3) %% {n}]
                         || ' #crisis' AS t
                  FROM generate_series(1, %s) AS g) AS src
            """,
            [project.pk, rows],
        )
        print(f"generated {rows} examples in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        t1 = time.perf_counter()
        cur.execute(
            "INSERT INTO annotator_annotation (example_id, user_id, labels, spans, source, "
            "created_at, updated_at) SELECT id, NULL, CASE WHEN id %% 3 = 0 THEN '[\"HS\"]'::jsonb "
            "WHEN id %% 3 = 1 THEN '[\"TR\"]'::jsonb ELSE '[\"AG\",\"HS\"]'::jsonb END, '[]'::jsonb, "
            "'import', now(), now() FROM annotator_example WHERE project_id = %s AND id %% 10 = 0",
            [project.pk],
        )
        cur.execute(
            "INSERT INTO models_zoo_prediction (example_id, model_version_id, scores, labels, spans, "
            "created_at) SELECT id, %s, jsonb_build_object('HS', random(), 'TR', random(), "
            "'AG', random()), '[]'::jsonb, '[]'::jsonb, now() FROM annotator_example "
            "WHERE project_id = %s",
            [version.pk, project.pk],
        )
        print(f"annotations + predictions in {time.perf_counter() - t1:.1f} s", file=sys.stderr)
        t1 = time.perf_counter()
        cur.execute("CREATE INDEX example_text_fts ON annotator_example "
                    "USING gin (to_tsvector('simple', text))")
        cur.execute("CREATE INDEX example_meta_gin ON annotator_example USING gin (meta jsonb_path_ops)")
        cur.execute("CREATE INDEX example_posted_desc ON annotator_example "
                    "(project_id, posted_at DESC NULLS LAST, id DESC)")
        print(f"GIN indexes built in {time.perf_counter() - t1:.1f} s", file=sys.stderr)
        cur.execute("ANALYZE annotator_example")
        cur.execute("ANALYZE annotator_annotation")
        cur.execute("ANALYZE models_zoo_prediction")
    return project


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="examples to generate (default 1,000,000)")
    parser.add_argument("--iterations", type=int, default=30, help="timed pages per scenario")
    parser.add_argument("--db", default="vigia_bench_browse", help="database (created and migrated)")
    args = parser.parse_args()
    setup_django(args.db)
    from django.db import connection

    from models_zoo.services.browse import browse_page, parse_filter

    project = ensure_project(args.rows)
    rng = random.Random(0)
    pages = [rng.randint(1, 20) for _ in range(args.iterations)]
    ref: list[float] = []
    with connection.cursor() as cur:
        for page in [1, *pages]:  # the first warms the cache and is not counted
            t0 = time.perf_counter()
            cur.execute("SELECT id FROM annotator_example WHERE project_id = %s ORDER BY id "
                        "LIMIT 50 OFFSET %s", [project.pk, (page - 1) * 50])
            cur.fetchall()
            ref.append((time.perf_counter() - t0) * 1000)
    ref = ref[1:]
    r95 = percentile(ref, 0.95)
    print(f"rows {args.rows}")
    print(f"reference_p50_ms {percentile(ref, 0.5):.2f}")
    print(f"reference_p95_ms {r95:.2f}")
    for name, params in SCENARIOS:
        times, empty = [], 0
        for page in [1, *pages]:
            f = parse_filter({**params, "page": str(page)})
            t0 = time.perf_counter()
            result = browse_page(project, f)
            times.append((time.perf_counter() - t0) * 1000)
            empty += not result.rows
        times = times[1:]
        p95 = percentile(times, 0.95)
        print(f"{name}_p50_ms {percentile(times, 0.5):.1f}")
        print(f"{name}_p95_ms {p95:.1f}")
        print(f"{name}_p95_vs_reference {p95 / r95:.1f}x")
        if empty:
            print(f"{name}_empty_pages {empty}")
        if params.get("sort", "id") in ("id", "-id"):
            # What the page's Next links do: pages 1..20 in turn, each after the last id shown.
            walk, after = [], None
            for page in range(1, 21):
                f = parse_filter({**params, "page": str(page), **({"after": str(after)} if after else {})})
                t0 = time.perf_counter()
                result = browse_page(project, f)
                walk.append((time.perf_counter() - t0) * 1000)
                after = result.next_after
                if after is None:
                    break
            k95 = percentile(walk, 0.95)
            print(f"{name}_next_links_p95_ms {k95:.1f} ({len(walk)} pages)")
            print(f"{name}_next_links_p95_vs_reference {k95 / r95:.1f}x")


if __name__ == "__main__":
    main()
