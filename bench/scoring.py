"""Batch scoring (a scoring job over a file of texts) against predict-all on the same texts and
against the bare model, in one run, on one worker each.

    CELERY_BROKER_URL=redis://127.0.0.1:6379/N OMP_NUM_THREADS=1 .venv/bin/python bench/scoring.py \
        [--texts 2000] [--chunk-size 500] [--db vigia_bench_scoring]

Uses bench/predict_all.py's project (tweet-like texts generated in SQL) and embedding_head
(packaged MiniLM + logistic regression). The same texts (the examples' normalised text) are:
- scored by the bare model: `backend.predict` in batches of 256, in this process;
- predicted by predict-all: a chunked prediction job on 1 real `celery worker` (started and
  answering a ping before the clock starts), predictions stored as rows;
- scored by a scoring job on 1 worker: the clock covers reading the JSONL upload, the chunk
  tasks and joining the results file.
Prints rows/s of each and the ratios (scoring / predict-all, scoring / bare model).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
import sys  # noqa: E402

sys.path.insert(0, str(ROOT))

from bench.predict_all import ensure_project, ensure_version, run_once, start_workers, stop  # noqa: E402
from bench.queue import setup_django  # noqa: E402


def bare_model(version, texts: list[str]) -> float:
    from models_zoo.artifacts import load_backend
    from models_zoo.backends.base import Item

    backend = load_backend(version.artifact_dir)
    backend.predict([Item(text=texts[0])])  # load the encoder before the clock
    t0 = time.perf_counter()
    for start in range(0, len(texts), 256):
        backend.predict([Item(text=t) for t in texts[start:start + 256]])
    return time.perf_counter() - t0


def scoring_job(project, version, path: Path, chunk_size: int, logdir: Path) -> float:
    from django.core.files import File

    from config.celery import app
    from integrations.models import ScoringJob
    from integrations.scoring.service import start_scoring_job

    app.control.purge()
    procs = start_workers(1, logdir)
    try:
        t0 = time.perf_counter()
        with path.open("rb") as fh:
            job = start_scoring_job(project, File(fh, name=path.name), model_version=version.pk,
                                    chunk_size=chunk_size)
        while (state := ScoringJob.objects.get(pk=job.pk).state) != "succeeded":
            if state == "failed" or any(p.poll() is not None for p in procs):
                raise SystemExit(f"the scoring job failed: {ScoringJob.objects.get(pk=job.pk).error} ({logdir})")
            time.sleep(0.1)
        return time.perf_counter() - t0
    finally:
        stop(procs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--db", default="vigia_bench_scoring")
    args = parser.parse_args()
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        raise SystemExit("set CELERY_BROKER_URL=redis://... (the workers need a real broker)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    workdir = Path(os.environ.get("VIGIA_VAR_DIR", tempfile.mkdtemp(prefix="vigia-bench-scoring-")))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["VIGIA_SCORING_DIR"] = str(workdir / "scoring")  # this process and the workers
    setup_django(args.db)
    project = ensure_project(args.texts)
    version = ensure_version(project, workdir)
    texts = list(project.examples.order_by("id").values_list("normalized_text", flat=True))
    upload = workdir / "texts.jsonl"
    upload.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)))

    bare = bare_model(version, texts)
    predict_all = run_once(project, version, 1, args.chunk_size, workdir)
    scoring = scoring_job(project, version, upload, args.chunk_size, workdir)
    n = len(texts)
    print(f"scoring_texts {n}")
    print(f"bare_model_rows_per_s {n / bare:.1f}")
    print(f"predict_all_1_worker_rows_per_s {n / predict_all:.1f}")
    print(f"scoring_job_1_worker_rows_per_s {n / scoring:.1f}")
    print(f"scoring_vs_predict_all {predict_all / scoring:.2f}x")
    print(f"scoring_vs_bare_model {bare / scoring:.2f}x")


if __name__ == "__main__":
    main()
