"""Batch scoring (a scoring job over a file of texts) against predict-all on the same texts and
against the bare model, in one run, on one worker each.

    CELERY_BROKER_URL=redis://127.0.0.1:6379/N OMP_NUM_THREADS=1 .venv/bin/python bench/scoring.py \
        [--texts 2000] [--chunk-size 500] [--db vigia_bench_scoring]

Uses bench/predict_all.py's project (tweet-like texts generated in SQL) and embedding_head
(packaged MiniLM + logistic regression). The same texts (the examples' normalised text) are:
- scored by the bare model: `backend.predict` in batches of 256, in this process;
- predicted by predict-all: a chunked prediction job on 1 real `celery worker` (started and
  answering a ping before the clock starts), predictions stored as rows;
- scored by a scoring job on 1 worker: the clock covers reading the JSONL upload and storing its
  chunks, the chunk tasks (each fetches its chunk from the store and uploads its output) and
  joining the results object. The store is VIGIA_STORAGE_URL (by default a path under
  VIGIA_VAR_DIR; an s3:// URL with the AWS variables measures S3).
Prints rows/s of each and the ratios (scoring / predict-all, scoring / bare model), and the
store's share of the job: the same store operations timed apart, without the model (best of 5),
as a fraction of the scoring job's time.
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
    from models_zoo.services.artifact_storage import local_artifact

    # artifact_dir is a storage key (issue 21): load from the store's copy, as the workers do.
    backend = load_backend(local_artifact(version.artifact_dir, version.artifact_checksum))
    backend.predict([Item(text=texts[0])])  # load the encoder before the clock
    t0 = time.perf_counter()
    for start in range(0, len(texts), 256):
        backend.predict([Item(text=t) for t in texts[start:start + 256]])
    return time.perf_counter() - t0


def store_share(path: Path, chunk_size: int, n_labels: int, repeats: int = 5) -> float:
    """Seconds of a job's work that is the store's, without the model or the queue (best of
    `repeats`): storing the upload's chunks, every chunk's read and output write, the join, and
    the first read of the results (a download into the cache, from S3)."""
    from django.core.files import File

    from integrations.scoring import files

    labels = [f"L{i}" for i in range(n_labels)]
    best = float("inf")
    for attempt in range(repeats):
        job_id = 10**9 + attempt  # no such job row: these keys are the bench's own
        t0 = time.perf_counter()
        with path.open("rb") as fh:
            sizes = files.store_inputs(job_id, File(fh, name=path.name), "jsonl", chunk_size)
        for index in range(len(sizes)):
            rows = files.read_input(job_id, index)
            files.write_output(job_id, index, [
                {"row": r["row"], "id": r["id"], "model_version": 1,
                 "scores": dict.fromkeys(labels, 0.5), "labels": []} for r in rows])
        files.join_results(job_id, "jsonl", len(sizes), labels)
        with files.open_results(job_id, "jsonl", "") as fh:
            fh.read()
        best = min(best, time.perf_counter() - t0)
        files.delete_job_files(job_id)
    return best


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
        elapsed = time.perf_counter() - t0
        ScoringJob.objects.filter(pk=job.pk).delete()  # its results go from the store with it
        return elapsed
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
    setup_django(args.db)
    from config.storage import get_storage
    project = ensure_project(args.texts)
    version = ensure_version(project, workdir)
    texts = list(project.examples.order_by("id").values_list("normalized_text", flat=True))
    upload = workdir / "texts.jsonl"
    upload.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)))

    bare = bare_model(version, texts)
    predict_all = run_once(project, version, 1, args.chunk_size, workdir)
    scoring = scoring_job(project, version, upload, args.chunk_size, workdir)
    store = store_share(upload, args.chunk_size, len(version.labels or []))
    n = len(texts)
    print(f"scoring_texts {n}")
    print(f"bare_model_rows_per_s {n / bare:.1f}")
    print(f"predict_all_1_worker_rows_per_s {n / predict_all:.1f}")
    print(f"scoring_job_1_worker_rows_per_s {n / scoring:.1f}")
    print(f"scoring_vs_predict_all {predict_all / scoring:.2f}x")
    print(f"scoring_vs_bare_model {bare / scoring:.2f}x")
    print(f"store_share_ms {store * 1000:.1f} ({get_storage().url})")
    print(f"store_share_of_scoring_job {store / scoring:.3f}")


if __name__ == "__main__":
    main()
