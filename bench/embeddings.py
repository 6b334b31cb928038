"""Embedding store benchmarks: job throughput vs the bare encoder, 2 workers vs 1, and an
`embedding_head` retrain on a warm store vs a cold one.

Run (PostgreSQL and Redis on 127.0.0.1; the bench creates and drops its own database):

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 nice .venv/bin/python bench/embeddings.py [--quick]
        [--n 4000] [--train-n 10000] [--database-url postgres://postgres@127.0.0.1:5432/vigia_bench_h8a]
        [--broker redis://127.0.0.1:6379/1]

What it measures, every figure against a reference taken in the same run (noisy machines):
1. bare encoder: `encode_sentences("default", texts)` (packaged all-MiniLM-L6-v2, batch 64) on
   `--n` HatEval EN texts, in this process, before and after (2); the reference is their mean;
2. the embedding job in this process (`request_embedding_set` + `embed_inline`: chunk rows,
   texts from PostgreSQL, encode, shard files, bookkeeping) on the same texts;
   figure `job_inline_vs_bare` (goal >= 0.9);
3. the same job on real Celery workers (`celery -A config worker --concurrency=1`), 1 worker
   and then 2, each warmed up first; wall time from the request to the set being ready;
   figures `job_1_worker_vs_bare` and `job_2_workers_vs_1_worker`;
4. `embedding_head` training (logistic regression, default encoder) on `--train-n` labelled
   HatEval EN examples (train + dev), cold (no store: every text encoded) and warm (a ready
   store: no encoding); figure `retrain_cold_vs_warm` (how many times faster warm is).

Threads: run with OMP_NUM_THREADS=1 so this process and each worker use one core; then
"2 workers vs 1" measures scale-out rather than thread contention.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Keep bench/ off sys.path (its modules would shadow the standard library's, e.g. `queue`).
_BENCH_DIR = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != _BENCH_DIR]
sys.path.insert(0, str(_BENCH_DIR.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

ROOT = _BENCH_DIR.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/vigia_bench_h8a"


def figure(name: str, value: float | int, unit: str = "") -> None:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"{name} {text}{(' ' + unit) if unit else ''}", flush=True)


def recreate_database(url: str, drop_only: bool = False) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def make_project(name: str, items, owner, annotate: bool):
    from annotator.models import Annotation, Example, Label, Membership, Project, Role
    from annotator.normalize import content_hash

    project = Project.objects.create(name=name, task_type="multilabel", created_by=owner)
    for i, label in enumerate(("HS", "TR", "AG")):
        Label.objects.create(project=project, name=label, order=i)
    Membership.objects.create(user=owner, project=project, role=Role.ADMIN)
    seen: set[str] = set()
    rows = []
    for item in items:
        digest = content_hash(item.text)
        if digest in seen:
            continue
        seen.add(digest)
        rows.append((Example(project=project, text=item.text, normalized_text=item.text,
                             content_hash=digest), item.labels))
    examples = Example.objects.bulk_create([e for e, _ in rows], batch_size=2000)
    if annotate:
        Annotation.objects.bulk_create(
            [Annotation(example=e, user=owner, labels=list(labels), source="human")
             for e, (_, labels) in zip(examples, rows, strict=True)], batch_size=2000)
    return project, [e.text for e in examples]


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def start_workers(count: int, env: dict[str, str], log_dir: Path) -> list[subprocess.Popen]:
    procs = []
    for i in range(count):
        log = open(log_dir / f"worker-{i}.log", "w")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING",
             "--concurrency=1", "--pool=prefork", "--prefetch-multiplier=1", "--without-gossip",
             "--without-mingle", f"--hostname=bench-{os.getpid()}-{i}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    from config.celery import app

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0)
        names = {name for reply in replies for name in reply if f"bench-{os.getpid()}-" in name}
        if len(names) >= count:
            return procs
    raise RuntimeError(f"{count} worker(s) did not answer within 120 s; see {log_dir}")


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def job_on_workers(project, encoder: str = "default", timeout: float = 3600) -> float:
    from django.db import close_old_connections

    from annotator.models import EmbeddingSet
    from annotator.services.embeddings import delete_set_files, request_embedding_set

    for old in EmbeddingSet.objects.filter(project=project):
        delete_set_files(old)
        old.delete()
    started = time.perf_counter()
    embedding_set = request_embedding_set(project, encoder)  # autocommit: sent at once
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        close_old_connections()
        embedding_set.refresh_from_db()
        if embedding_set.state in ("ready", "failed"):
            break
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    if embedding_set.state != "ready":
        raise RuntimeError(f"embedding set {embedding_set.pk}: {embedding_set.state} {embedding_set.error}")
    return elapsed


def train_seconds(project, owner) -> tuple[float, str]:
    from models_zoo.services.training import start_training_run
    from models_zoo.services.training_worker import run_training

    run = start_training_run(project, "embedding_head", {"seed": 1}, owner, enqueue=False)
    elapsed, version = timed(lambda: run_training(run.pk))
    run.refresh_from_db()
    if version is None:
        raise RuntimeError(f"training failed: {run.error}")
    line = next((ln for ln in run.log.splitlines() if "embedding store" in ln), "")
    return elapsed, line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/1"))
    parser.add_argument("--n", type=int, default=4000, help="texts for the throughput figures")
    parser.add_argument("--train-n", type=int, default=10000, help="labelled examples for the retrain")
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--skip-workers", action="store_true")
    parser.add_argument("--skip-retrain", action="store_true")
    parser.add_argument("--quick", action="store_true", help="smoke run: 400 texts, 1000 labelled")
    args = parser.parse_args()
    if args.quick:
        args.n, args.train_n, args.chunk_size = 400, 1000, 50

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("VIGIA_SECRET_KEY", "bench-only-secret-key")
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["CELERY_BROKER_URL"] = args.broker
    os.environ["VIGIA_EMBEDDING_CHUNK_SIZE"] = str(args.chunk_size)
    var_dir = Path(tempfile.mkdtemp(prefix="vigia-bench-embeddings-"))
    os.environ["VIGIA_VAR_DIR"] = str(var_dir)
    workers: list[subprocess.Popen] = []
    try:
        recreate_database(args.database_url)
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        import torch
        from django.contrib.auth import get_user_model

        from annotator.services.embeddings import embed_inline, request_embedding_set
        from bench._data import read_hateval
        from models_zoo.backends._encoders import encode_sentences

        figure("torch_threads", torch.get_num_threads())
        owner = get_user_model().objects.create_user("bench")
        items = read_hateval("train") + read_hateval("dev")
        throughput_project, texts = make_project("throughput", items[: args.n], owner, annotate=False)
        n = len(texts)
        figure("texts", n)
        encode_sentences("default", texts[:64])  # load the model once, outside the timings

        bare_1, _ = timed(lambda: encode_sentences("default", texts, batch_size=64))
        inline_s, _ = timed(lambda: embed_inline(request_embedding_set(throughput_project, enqueue=False)))
        bare_2, _ = timed(lambda: encode_sentences("default", texts, batch_size=64))
        bare = (bare_1 + bare_2) / 2
        figure("bare_encoder_texts_per_s", n / bare, "texts/s")
        figure("job_inline_texts_per_s", n / inline_s, "texts/s")
        figure("job_inline_vs_bare", bare / inline_s)

        if not args.skip_workers:
            from config.celery import app

            app.control.purge()
            env = dict(os.environ, PYTHONUNBUFFERED="1")
            warm_project, _ = make_project("warmup", items[-64:], owner, annotate=False)
            per_worker = {}
            for count in (1, 2):
                workers = start_workers(count, env, var_dir)
                job_on_workers(warm_project)  # each worker loads the model
                job_on_workers(warm_project)
                per_worker[count] = job_on_workers(throughput_project)
                stop_workers(workers)
                workers = []
                figure(f"job_{count}_worker{'s' if count > 1 else ''}_texts_per_s", n / per_worker[count], "texts/s")
            figure("job_1_worker_vs_bare", bare / per_worker[1])
            figure("job_2_workers_vs_1_worker", per_worker[1] / per_worker[2])

        if not args.skip_retrain:
            train_project, train_texts = make_project("retrain", items[: args.train_n], owner, annotate=True)
            figure("labelled_examples", len(train_texts))
            cold_s, cold_line = train_seconds(train_project, owner)
            print(f"cold_run_log {cold_line}")
            embed_s, _ = timed(lambda: embed_inline(request_embedding_set(train_project, enqueue=False)))
            warm_s, warm_line = train_seconds(train_project, owner)
            print(f"warm_run_log {warm_line}")
            figure("retrain_cold_s", cold_s, "s")
            figure("embedding_job_s", embed_s, "s")
            figure("retrain_warm_s", warm_s, "s")
            figure("retrain_cold_vs_warm", cold_s / warm_s)
    finally:
        stop_workers(workers)
        from django.db import connections

        connections.close_all()
        recreate_database(args.database_url, drop_only=True)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
