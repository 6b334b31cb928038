"""Queue latency: "next example for this annotator" with 1M examples in PostgreSQL.

    .venv/bin/python bench/queue.py [--examples 1000000] [--iterations 400] [--db vigia_bench_d]

Creates (once) and migrates its own database, bulk-generates the examples with one
INSERT ... SELECT FROM generate_series, then times `annotator.services.queue.next_example`
claiming a fresh example for 4 annotators in turn (each claim is then marked done, as the
annotate page would). Reference in the same run: a bare `SELECT` of one example by primary key
through the ORM. Prints p50/p95 and the ratio to the reference, one figure per line.
Goal: p95 under 50 ms.

`--strategy margin` (or any active-learning strategy): first stores a current model version
with one Prediction per example (random scores, generated in SQL), times
`models_zoo.services.queue_scores.rescore_project` (what a promotion's predict job runs at the
end) and then the claims, which order by the stored score.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# This file is named queue.py: keep bench/ off sys.path so the stdlib `queue` stays importable.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

BENCH_USERS = ["bench-ann-1", "bench-ann-2", "bench-ann-3", "bench-ann-4"]
PROJECT_NAME = "bench-d queue"


def setup_django(db: str) -> None:
    """Point Django at `db` (created if missing), migrate it, and set Django up."""
    import psycopg

    base = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
            conn.execute(f'CREATE DATABASE "{db}"')
    os.environ["DATABASE_URL"] = f"{base}/{db}"
    os.environ.setdefault("VIGIA_DEBUG", "0")  # no per-query logging while timing
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Debug is off by default, and then settings require a key.
    os.environ.setdefault("VIGIA_SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def ensure_project(n_examples: int):
    """The bench project with `n_examples` examples; generated in SQL on first use."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from annotator.models import Label, Membership, Project, Role

    User = get_user_model()
    users = []
    for name in BENCH_USERS:
        user, created = User.objects.get_or_create(username=name)
        if created:
            user.set_password("pw-" + name)
            user.save()
        users.append(user)
    project = Project.objects.filter(name=PROJECT_NAME).first()
    if project is not None and project.examples.count() == n_examples:
        return project, users
    if project is not None:
        project.delete()
    with transaction.atomic():
        project = Project.objects.create(name=PROJECT_NAME, task_type="multilabel", overlap=1)
        for i, (name, color) in enumerate([("HS", "#ef4444"), ("TR", "#3b82f6"), ("AG", "#22c55e")]):
            Label.objects.create(project=project, name=name, shortcut="qwe"[i], color=color, order=i)
        for user in users:
            Membership.objects.create(user=user, project=project, role=Role.ANNOTATOR)
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO annotator_example (project_id, text, normalized_text, meta, external_id,
                content_hash, image, queue_key, assigned_count, created_at)
            SELECT %s,
                   'Tweet ' || g || ': flooding reported near the river bank, people asking for help #crisis',
                   'tweet ' || g || ': flooding reported near the river bank, people asking for help #crisis',
                   jsonb_build_object('created_at', '2024-01-01', 'lang', 'en',
                                      'retweet_count', g %% 97, 'event', 'bench'),
                   g::text, md5(g::text), '', random(), 0, now()
            FROM generate_series(1, %s) AS g
            """,
            [project.pk, n_examples],
        )
        cur.execute("ANALYZE annotator_example")
    print(f"generated {n_examples} examples in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return project, users


def reset_queue(project) -> None:
    """Forget earlier bench runs: no assignments, annotations or claimed slots."""
    from annotator.models import Annotation, Assignment, Example

    Annotation.objects.filter(example__project=project).delete()
    Assignment.objects.filter(example__project=project).delete()
    Example.objects.filter(project=project, assigned_count__gt=0).update(assigned_count=0)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def reference_select_ms(project, iterations: int) -> list[float]:
    """A bare ORM SELECT of one example by primary key: the floor any request pays."""
    from annotator.models import Example

    ids = list(Example.objects.filter(project=project).values_list("id", flat=True)[:1])
    lo = ids[0]
    times = []
    rng = random.Random(0)
    for _ in range(iterations):
        pk = lo + rng.randrange(900_000)
        t0 = time.perf_counter()
        Example.objects.filter(pk=pk).first()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def report(name: str, times: list[float], ref: list[float]) -> None:
    p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
    r50, r95 = percentile(ref, 0.5), percentile(ref, 0.95)
    print(f"{name}_p50_ms {p50:.2f}")
    print(f"{name}_p95_ms {p95:.2f}")
    print(f"{name}_p50_vs_pk_select {p50 / r50:.1f}x")
    print(f"{name}_p95_vs_pk_select {p95 / r95:.1f}x")


def prepare_active_learning(project, strategy: str) -> None:
    """A current version with a stored prediction per example, then the rescore, timed."""
    from django.db import connection

    from models_zoo.models import ModelVersion
    from models_zoo.services.queue_scores import rescore_project

    project.queue_strategy = strategy
    project.queue_label = "HS"
    project.save(update_fields=["queue_strategy", "queue_label"])
    version = ModelVersion.objects.filter(project=project, backend="bench").first()
    if version is None:
        version = ModelVersion.objects.create(project=project, backend="bench", artifact_dir="-",
                                              labels=["HS", "TR", "AG"], is_current=True)
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(
                """
                INSERT INTO models_zoo_prediction (example_id, model_version_id, scores, labels,
                    spans, created_at)
                SELECT id, %s, jsonb_build_object('HS', random(), 'TR', random(), 'AG', random()),
                       '[]'::jsonb, '[]'::jsonb, now()
                FROM annotator_example WHERE project_id = %s
                """,
                [version.pk, project.pk],
            )
        print(f"generated predictions in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    t0 = time.perf_counter()
    scored = rescore_project(project.pk)
    elapsed = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("ANALYZE annotator_example")
    print(f"rescore_{strategy}_examples {scored}")
    print(f"rescore_{strategy}_s {elapsed:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--db", default="vigia_bench_d")
    parser.add_argument("--strategy", default="random")
    args = parser.parse_args()
    setup_django(args.db)

    from annotator.models import Assignment, AssignmentStatus
    from annotator.services.queue import next_example

    project, users = ensure_project(args.examples)
    reset_queue(project)
    if args.strategy != "random":
        prepare_active_learning(project, args.strategy)
    ref = reference_select_ms(project, args.iterations)
    claims, resumes = [], []
    for i in range(args.iterations):
        user = users[i % len(users)]
        t0 = time.perf_counter()
        example = next_example(project, user)
        claims.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        assert next_example(project, user) == example  # reload: resumes the same example
        resumes.append((time.perf_counter() - t0) * 1000)
        Assignment.objects.filter(example=example, user=user).update(status=AssignmentStatus.DONE)
    print(f"examples {project.examples.count()}")
    print(f"pk_select_p50_ms {percentile(ref, 0.5):.2f}")
    print(f"pk_select_p95_ms {percentile(ref, 0.95):.2f}")
    report("queue_claim", claims, ref)
    report("queue_resume", resumes, ref)
    print(f"load_average_1min {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
    print(f"goal_p95_under_50ms {'yes' if percentile(claims, 0.95) < 50 else 'NO'}")


if __name__ == "__main__":
    main()
