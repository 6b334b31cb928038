"""Chunked whole-project prediction: throughput with 2 worker processes against 1, same project,
same model, same run.

    CELERY_BROKER_URL=redis://127.0.0.1:6379/N .venv/bin/python bench/predict_all.py \
        [--examples 3000] [--chunk-size 256] [--db vigia_bench_predict_all]

Creates (once) and migrates its own database and project (varied tweet-like texts generated in
SQL), fits embedding_head (packaged MiniLM + logistic regression) on 40 synthetic texts, then for
1 and for 2 real `celery worker` processes (concurrency 1, OMP_NUM_THREADS=1 each, started and
answering a ping before the clock starts) deletes the version's predictions and times a
`start_prediction_job` until the job succeeds. Prints examples/s for each and the ratio.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.queue import setup_django  # noqa: E402

PROJECT_NAME = "bench predict-all"
WORDS = [
    "flood",
    "fire",
    "help",
    "rescue",
    "road",
    "closed",
    "storm",
    "power",
    "shelter",
    "water",
    "news",
    "today",
    "people",
    "city",
    "bridge",
    "school",
    "hospital",
    "wind",
    "rain",
    "damage",
]


def ensure_project(n: int):
    from django.db import connection, transaction

    from annotator.models import Label, Project

    project = Project.objects.filter(name=PROJECT_NAME).first()
    if project is not None and project.examples.count() == n:
        return project
    if project is not None:
        project.delete()
    with transaction.atomic():
        project = Project.objects.create(name=PROJECT_NAME, task_type="multilabel")
        for i, name in enumerate(("HS", "TR", "AG")):
            Label.objects.create(project=project, name=name, order=i)
        words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
        with connection.cursor() as cur:
            cur.execute(
                f"""
                INSERT INTO annotator_example (project_id, text, normalized_text, meta, external_id,
                    content_hash, image, queue_key, assigned_count, created_at)
                SELECT %s, t, t, '{{}}'::jsonb, g::text, md5(t), '', random(), 0, now()
                FROM (SELECT g, 'tweet ' || g || ' ' || ({words})[1 + g %% 20] || ' ' ||
                      ({words})[1 + (g / 20) %% 20] || ' near the ' || ({words})[1 + (g / 400) %% 20]
                      || ' ' || ({words})[1 + (g * 7) %% 20] AS t FROM generate_series(1, %s) g) s
                """,
                [project.pk, n],
            )
    return project


def ensure_version(project, workdir: Path):
    from config.storage import MANIFEST, get_storage
    from models_zoo.backends.base import Item
    from models_zoo.backends.embedding_head import EmbeddingHeadBackend
    from models_zoo.models import ModelVersion
    from models_zoo.services.artifact_storage import save_artifact

    version = ModelVersion.objects.filter(project=project, is_current=True).first()
    if version is not None and get_storage().exists(f"{version.artifact_dir}/{MANIFEST}"):
        return version
    ModelVersion.objects.filter(project=project).delete()
    items = []
    for i in range(60):
        w = WORDS[i % 20]
        labels = [
            name
            for name, trigger in (("HS", "flood"), ("TR", "fire"), ("AG", "storm"))
            if trigger in w
        ] or []
        if i % 3 == 0:
            labels = ["HS", "TR", "AG"][i % 9 // 3 : i % 9 // 3 + 1]
        items.append(
            Item(
                text=f"{w} {WORDS[(i * 3) % 20]} {' '.join(labels).lower()} tweet {i}",
                labels=labels,
            )
        )
    backend = EmbeddingHeadBackend(["HS", "TR", "AG"], "multilabel", {})
    backend.fit(items[:40], items[40:])
    key = f"{project.pk}/bench"
    checksum = save_artifact(backend, key)
    return ModelVersion.objects.create(
        project=project,
        backend="embedding_head",
        artifact_dir=key,
        artifact_checksum=checksum,
        labels=["HS", "TR", "AG"],
        is_current=True,
    )


def start_workers(k: int, logdir: Path) -> list[subprocess.Popen]:
    from config.celery import app

    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", VIGIA_DEBUG="0")
    procs = []
    for i in range(k):
        log = open(logdir / f"worker{i}.log", "w")  # noqa: SIM115 - lives as long as the worker
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--loglevel=WARNING",
                    "--concurrency=1",
                    "--pool=prefork",
                    "-Q",
                    "celery,gpu",
                    "--without-gossip",
                    "--without-mingle",
                    f"--hostname=bench{i}-{os.getpid()}@%h",
                    "--prefetch-multiplier=1",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        names = {n for r in app.control.ping(timeout=1.0) for n in r}
        if sum(any(f"bench{i}-{os.getpid()}@" in n for n in names) for i in range(k)) == k:
            return procs
    raise SystemExit("workers did not answer a ping within 90 s")


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def run_once(project, version, k: int, chunk_size: int, logdir: Path) -> float:
    from django.db import transaction

    from config.celery import app
    from models_zoo.models import Prediction, PredictionJob
    from models_zoo.services.chunked_prediction import start_prediction_job

    Prediction.objects.filter(model_version=version).delete()
    app.control.purge()
    procs = start_workers(k, logdir)
    try:
        t0 = time.perf_counter()
        with transaction.atomic():
            job = start_prediction_job(project, version.pk, chunk_size)
        while PredictionJob.objects.get(pk=job.pk).state != "succeeded":
            if any(p.poll() is not None for p in procs):
                raise SystemExit(f"a worker died; see {logdir}")
            time.sleep(0.1)
        return time.perf_counter() - t0
    finally:
        stop(procs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000)
    parser.add_argument("--chunk-size", type=int, default=256)
    parser.add_argument("--db", default="vigia_bench_predict_all")
    args = parser.parse_args()
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        raise SystemExit("set CELERY_BROKER_URL=redis://... (the workers need a real broker)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    setup_django(args.db)
    workdir = Path(os.environ.get("VIGIA_VAR_DIR", tempfile.mkdtemp(prefix="vigia-bench-predict-")))
    workdir.mkdir(parents=True, exist_ok=True)
    project = ensure_project(args.examples)
    version = ensure_version(project, workdir)
    one = run_once(project, version, 1, args.chunk_size, workdir)
    two = run_once(project, version, 2, args.chunk_size, workdir)
    print(f"predict_all_examples {args.examples}")
    print(f"predict_all_1_worker_examples_per_s {args.examples / one:.1f}")
    print(f"predict_all_2_workers_examples_per_s {args.examples / two:.1f}")
    print(f"predict_all_2_vs_1_workers {one / two:.2f}x")


if __name__ == "__main__":
    main()
