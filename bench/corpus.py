"""Seed 004's scale: a project of 20M real-tweet examples with predictions of one version, and
the figures that matter at that size, each against a reference measured in the same run.

    nice .venv/bin/python bench/corpus.py [--examples 20000000] [--db vigia_bench_corpus]
        [--batch 1000000] [--measure-rows 100000] [--iterations 30] [--build-only]

How it is built: see bench/_corpus_build.py (texts from the shared real tweets with unique
suffixes, posting times over five years, predictions written set-based from a per-text model
score, secondary indexes rebuilt after the bulk load). The build commits batch by batch and
resumes where it stopped when run again; a finished corpus is reused (only the figures run).
It needs the shared datasets (`VIGIA_DATASETS_DIR` or ../shared/datasets).

The last 2 x `--measure-rows` examples are not bulk-loaded: into the full table (every index
and constraint in place) the first half goes in by a bare COPY of their final column values
(prepared beforehand, untimed) and the second half through the product's `import_file` from a
CSV (parse, validate, normalise, hash, stage, dedupe insert). Figures, one per line:

- import rows/s, bare COPY rows/s and their ratio (and the bulk-load rate, indexes dropped);
- bytes per example on disk: examples, predictions and the index's daily counts, with their
  indexes and TOAST, divided by the examples;
- the index (`GET /api/v1/projects/{id}/index?label=HS`, in-process Django client, session
  auth): p50/p95, the p95 against a bare read of the aggregate rows it needs (the two SELECTs
  of the version's daily totals and the label's daily positives), and `daily_counts` alone
  against the same reference; the grouped query over every prediction that the index ran
  before issue 21 (once, also the check that the aggregate equals a direct count);
- the data browser's first page (`/projects/{id}/data/`) p50/p95 against a bare
  `SELECT id ... ORDER BY id LIMIT 50`;
- the annotate claim (`next_example` for a fresh example, 4 annotators in turn) p50/p95
  against a bare SELECT of one example by primary key, and the annotate page.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# bench/queue.py would shadow the stdlib `queue`: keep bench/ off sys.path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

from bench.queue import setup_django  # noqa: E402

os.environ.setdefault("VIGIA_SECRET_KEY", "bench-only-key-corpus")
PROJECT_NAME = "seed 004 corpus"
ANNOTATORS = ("corpus-ann-1", "corpus-ann-2", "corpus-ann-3", "corpus-ann-4")


def figure(name: str, value, unit: str = "") -> None:
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    print(f"{name} {text}{(' ' + unit) if unit else ''}", flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timings_ms(fn, iterations: int, warm: int = 2) -> list[float]:
    for _ in range(warm):
        fn()
    out = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def report(name: str, times: list[float], ref: list[float] | None = None) -> None:
    figure(f"{name}_p50_ms", percentile(times, 0.5))
    figure(f"{name}_p95_ms", percentile(times, 0.95))
    if ref is not None:
        figure(f"{name}_p95_vs_reference", percentile(times, 0.95) / percentile(ref, 0.95), "x")


def ensure_project():
    from django.contrib.auth import get_user_model

    from annotator.models import Label, Membership, Project, Role
    from models_zoo.models import ModelVersion

    users = get_user_model().objects
    admin, _ = users.get_or_create(username="corpus-admin")
    annotators = [users.get_or_create(username=name)[0] for name in ANNOTATORS]
    project = Project.objects.filter(name=PROJECT_NAME).first()
    if project is None:
        project = Project.objects.create(name=PROJECT_NAME, task_type="multilabel", created_by=admin)
        for i, name in enumerate(("HS", "TR", "AG")):
            Label.objects.create(project=project, name=name, shortcut="qwe"[i], order=i)
        Membership.objects.create(user=admin, project=project, role=Role.ADMIN)
        for user in annotators:
            Membership.objects.create(user=user, project=project, role=Role.ANNOTATOR)
        ModelVersion.objects.create(
            project=project, backend="bench-tfidf-logistic-regression", artifact_dir="-",
            labels=["HS", "TR", "AG"], thresholds={"HS": 0.5, "TR": 0.5, "AG": 0.5},
            is_current=True,
        )
    return project, ModelVersion.objects.get(project=project), admin, annotators


def example_count(project) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM annotator_example WHERE project_id = %s", [project.pk])
        return int(cur.fetchone()[0])


def build(args, project, version) -> None:
    from django.db import connection, transaction

    from bench import _corpus_build as b

    pool = b.Pool()
    b.fit_pool_scores(pool)
    builder = b.row_builder(project)
    n, m = args.examples, args.measure_rows
    bulk_to = n - 2 * m
    count = example_count(project)
    if count < bulk_to:
        b.drop_indexes("annotator_example")
        t0, loaded = time.perf_counter(), 0
        while count < bulk_to:
            size = min(args.batch, bulk_to - count)
            with transaction.atomic(), connection.cursor() as cur:
                loaded += b.copy_examples(cur, b.copy_rows(project, builder, pool, count, size, count))
            count += size
            rate = loaded / (time.perf_counter() - t0)
            b.log(f"  examples: {count} of {n}, {rate:.0f} rows/s (bulk load, indexes dropped)")
        b.state_set("bulk_rows_per_s", rate)
    if b.state_get("dropped:annotator_example"):
        b.state_set("example_index_build_s", b.rebuild_indexes("annotator_example"))
        with connection.cursor() as cur:
            cur.execute("ANALYZE annotator_example")
    if count == bulk_to:
        rows = list(b.copy_rows(project, builder, pool, count, m, count))  # prepared, untimed
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            b.copy_examples(cur, rows)
        b.state_set("bare_copy", {"rows": m, "seconds": time.perf_counter() - t0})
        count += m
    if count == n - m:
        from annotator.importers import import_file

        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "tweets.csv"
            b.write_csv(pool, count, m, count, source)
            t0 = time.perf_counter()
            result = import_file(project, source, "csv")
            seconds = time.perf_counter() - t0
        b.state_set("import", {"rows": result.imported, "seconds": seconds,
                               "duplicates": result.duplicates})
        count += m
    if count != n:
        raise SystemExit(f"the project holds {count} examples, not {n}: use another --db")
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM models_zoo_prediction WHERE model_version_id = %s",
                    [version.pk])
        predicted = int(cur.fetchone()[0])
    if predicted < n:
        if n - predicted > args.batch:
            b.drop_indexes("models_zoo_prediction")
        written, seconds = b.write_predictions(project, version, len(pool), args.batch)
        b.state_set("predictions", {"rows": written, "seconds": seconds})
    if b.state_get("dropped:models_zoo_prediction"):
        b.state_set("prediction_index_build_s", b.rebuild_indexes("models_zoo_prediction"))
    if not b.state_get("vacuumed"):
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) annotator_example")
            cur.execute("VACUUM (ANALYZE) models_zoo_prediction")
            cur.execute("VACUUM (ANALYZE) models_zoo_predictionday")
            cur.execute("VACUUM (ANALYZE) models_zoo_predictiondaylabel")
        b.state_set("vacuumed", time.perf_counter() - t0)


DIRECT_COUNTS = (
    # The index's grouped query before issue 21 (O(predictions)).
    "SELECT (e.posted_at AT TIME ZONE 'UTC')::date, count(p.id), "
    "count(p.id) FILTER (WHERE p.labels @> %s::jsonb) FROM models_zoo_prediction p "
    "JOIN annotator_example e ON e.id = p.example_id "
    "WHERE p.model_version_id = %s AND e.posted_at IS NOT NULL GROUP BY 1 ORDER BY 1"
)


def measure(args, project, version, admin, annotators) -> None:
    from django.db import connection
    from django.test import Client

    from annotator.models import Assignment, AssignmentStatus, Example
    from annotator.services.queue import next_example
    from bench import _corpus_build as b
    from models_zoo.services.prevalence import daily_counts

    n = example_count(project)
    figure("corpus_examples", n)
    figure("corpus_load_average_1min", os.getloadavg()[0])
    bulk, copy, imp = b.state_get("bulk_rows_per_s"), b.state_get("bare_copy"), b.state_get("import")
    if bulk:
        figure("bulk_load_rows_per_s", bulk)
    for what in ("example_index_build_s", "prediction_index_build_s"):
        if b.state_get(what) is not None:
            figure(what, b.state_get(what), "s")
    if copy and imp:
        copy_rate, import_rate = copy["rows"] / copy["seconds"], imp["rows"] / imp["seconds"]
        figure("bare_copy_rows_per_s", copy_rate)
        figure("import_rows_per_s", import_rate)
        figure("import_vs_bare_copy", import_rate / copy_rate)
    written = b.state_get("predictions")
    if written and written["rows"]:
        figure("predictions_written_rows_per_s", written["rows"] / written["seconds"])

    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_total_relation_size('annotator_example'), "
            "pg_total_relation_size('models_zoo_prediction'), "
            "pg_total_relation_size('models_zoo_predictionday') "
            "+ pg_total_relation_size('models_zoo_predictiondaylabel')")
        examples_b, predictions_b, aggregate_b = cur.fetchone()
        cur.execute("SELECT count(*) FROM models_zoo_predictionday WHERE model_version_id = %s",
                    [version.pk])
        days = cur.fetchone()[0]
    figure("disk_bytes_per_example", (examples_b + predictions_b + aggregate_b) / n)
    figure("disk_example_bytes_per_example", examples_b / n)
    figure("disk_prediction_bytes_per_example", predictions_b / n)
    figure("disk_daily_counts_bytes", aggregate_b)
    figure("disk_total_gb", (examples_b + predictions_b + aggregate_b) / 1e9)
    figure("index_days", days)

    with connection.cursor() as cur:
        t0 = time.perf_counter()
        cur.execute(DIRECT_COUNTS, ['["HS"]', version.pk])
        direct = [(d, int(c), int(p)) for d, c, p in cur.fetchall()]
        figure("index_grouped_query_before_s", time.perf_counter() - t0, "s")
    figure("aggregate_matches_direct_count", "yes" if daily_counts(version.pk, "HS") == direct else "NO")

    def bare_aggregate() -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT day, n FROM models_zoo_predictionday WHERE model_version_id = %s "
                        "ORDER BY day", [version.pk])
            cur.fetchall()
            cur.execute("SELECT day, positive FROM models_zoo_predictiondaylabel "
                        "WHERE model_version_id = %s AND label = %s ORDER BY day", [version.pk, "HS"])
            cur.fetchall()

    it = args.iterations
    ref = timings_ms(bare_aggregate, it)
    report("aggregate_bare_read", ref)
    report("daily_counts", timings_ms(lambda: daily_counts(version.pk, "HS"), it), ref)
    client = Client()
    client.force_login(admin)
    url = f"/api/v1/projects/{project.pk}/index"

    def index_request() -> None:
        response = client.get(url, {"label": "HS"})
        assert response.status_code == 200, response.content[:300]

    report("index_request", timings_ms(index_request, it), ref)
    body = client.get(url, {"label": "HS"}).json()
    figure("index_peaks", len(body["peaks"]))

    def bare_page() -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT id FROM annotator_example WHERE project_id = %s ORDER BY id "
                        "LIMIT 50", [project.pk])
            cur.fetchall()

    page_ref = timings_ms(bare_page, it)
    report("bare_first_page", page_ref)

    def browser() -> None:
        response = client.get(f"/projects/{project.pk}/data/")
        assert response.status_code == 200

    report("browser_first_page", timings_ms(browser, it), page_ref)

    lo = Example.objects.filter(project=project).order_by("id").values_list("id", flat=True)[0]
    spread = iter(lo + (i * 7919) % n for i in range(it + 10))
    claim_ref = timings_ms(lambda: Example.objects.filter(pk=next(spread)).first(), it)
    report("pk_select", claim_ref)
    claims = []
    for i in range(it + 2):
        user = annotators[i % len(annotators)]
        t0 = time.perf_counter()
        example = next_example(project, user)
        claims.append((time.perf_counter() - t0) * 1000)
        Assignment.objects.filter(example=example, user=user).update(status=AssignmentStatus.DONE)
    report("annotate_claim", claims[2:], claim_ref)
    annotator = Client()
    annotator.force_login(annotators[0])

    def annotate_page() -> None:
        response = annotator.get(f"/projects/{project.pk}/annotate/")
        assert response.status_code == 200
        Assignment.objects.filter(user=annotators[0], status=AssignmentStatus.ASSIGNED).update(
            status=AssignmentStatus.DONE)

    report("annotate_page", timings_ms(annotate_page, it), claim_ref)
    figure("measured_load_average_1min", os.getloadavg()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20_000_000)
    parser.add_argument("--batch", type=int, default=1_000_000, help="rows per bulk transaction")
    parser.add_argument("--measure-rows", type=int, default=100_000,
                        help="rows of the measured COPY and of the measured import")
    parser.add_argument("--iterations", type=int, default=30, help="timed requests per figure")
    parser.add_argument("--db", default="vigia_bench_corpus")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    if args.examples < 2 * args.measure_rows:
        raise SystemExit("--examples must be at least twice --measure-rows")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    setup_django(args.db)
    project, version, admin, annotators = ensure_project()
    t0 = time.perf_counter()
    build(args, project, version)
    figure("build_s", time.perf_counter() - t0, "s")
    if not args.build_only:
        measure(args, project, version, admin, annotators)


if __name__ == "__main__":
    main()
