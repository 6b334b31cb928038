"""Annotate-page latency: server time from submitting a decision to the next example rendered,
with 1M examples in PostgreSQL.

    .venv/bin/python bench/annotate.py [--examples 1000000] [--iterations 300] [--db vigia_bench_d]

Uses the same self-created database and generated project as bench/queue.py. Four annotators
(Django test Clients, session-authenticated, sending `HX-Request` like htmx does) take turns:
each POST saves a multilabel annotation through the real view (validation, save, assignment
bookkeeping, progress, claim of the next example) and renders the workspace partial with the
next example and the history sidebar. A warm-up of 20 decisions per annotator fills their
history first. References measured in the same run: a bare ORM SELECT of one example by primary
key, and a GET of the login page (the framework + template floor of any page).
Goal: p95 under 100 ms.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import random
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_queue", BENCH_DIR / "queue.py")
bench_queue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_queue)  # also puts the repository root on sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--db", default="vigia_bench_d")
    args = parser.parse_args()
    bench_queue.setup_django(args.db)

    from django.test import Client
    from django.urls import reverse

    from annotator.models import Annotation

    project, users = bench_queue.ensure_project(args.examples)
    bench_queue.reset_queue(project)
    clients = []
    for user in users:
        c = Client(HTTP_HX_REQUEST="true")
        c.force_login(user)
        clients.append(c)
    annotate_url = reverse("annotate", args=[project.pk])
    current: dict[int, int] = {}

    def decide(i: int, rng: random.Random) -> float:
        c = clients[i % len(clients)]
        if i not in current and (i % len(clients)) not in current:
            r = c.get(annotate_url)
            current[i % len(clients)] = int(r.content.split(b'data-example="')[1].split(b'"')[0])
        ex = current[i % len(clients)]
        labels = rng.sample(["HS", "TR", "AG"], rng.randrange(0, 4))
        url = reverse("annotate-example", args=[project.pk, ex])
        t0 = time.perf_counter()
        r = c.post(url, {"labels": labels})
        elapsed = (time.perf_counter() - t0) * 1000
        assert r.status_code == 200, r.content[:500]
        nxt = int(r.content.split(b'data-example="')[1].split(b'"')[0])
        assert nxt != ex
        current[i % len(clients)] = nxt
        return elapsed

    rng = random.Random(0)
    for i in range(args.warmup * len(clients)):
        decide(i, rng)
    from django.db import connection

    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        times = [decide(i, rng) for i in range(args.iterations)]
    saved = Annotation.objects.filter(example__project=project).count()
    expected = (args.warmup * len(clients)) + args.iterations
    assert saved == expected, (saved, expected)

    ref = bench_queue.reference_select_ms(project, args.iterations)
    login_page = Client()
    page_ref = []
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        login_page.get(reverse("login"))
        page_ref.append((time.perf_counter() - t0) * 1000)

    pct = bench_queue.percentile
    print(f"examples {project.examples.count()}")
    print(f"annotations_saved {saved}")
    print(f"pk_select_p50_ms {pct(ref, 0.5):.2f}")
    print(f"pk_select_p95_ms {pct(ref, 0.95):.2f}")
    print(f"login_page_p50_ms {pct(page_ref, 0.5):.2f}")
    print(f"login_page_p95_ms {pct(page_ref, 0.95):.2f}")
    bench_queue.report("submit_to_next", times, ref)
    print(f"submit_to_next_p50_vs_login_page {pct(times, 0.5) / pct(page_ref, 0.5):.1f}x")
    print(f"submit_to_next_p95_vs_login_page {pct(times, 0.95) / pct(page_ref, 0.95):.1f}x")
    print(f"sql_statements_per_submit {queries[0] / args.iterations:.1f}")
    print(f"load_average_1min {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
    print(f"goal_p95_under_100ms {'yes' if pct(times, 0.95) < 100 else 'NO'}")


if __name__ == "__main__":
    sys.exit(main())
