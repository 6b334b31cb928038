"""Prediction API throughput and latency, through a real HTTP server, against two references.

Run (PostgreSQL on 127.0.0.1; the bench creates and drops its own database):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/predict.py [--quick]
        [--database-url postgres://postgres@127.0.0.1:5432/vigia_bench_e2]

What it does, all in one run (these machines are noisy, so every figure has a same-run reference):
1. creates the bench database, migrates it, creates a user with a token and a multilabel HS/TR/AG
   project, and trains the default model (`embedding_head`: packaged all-MiniLM-L6-v2 + logistic
   regression) on a few hundred HatEval EN training rows; the version is made current;
2. starts `manage.py runserver --noreload` on localhost against that database (DEBUG off);
3. measures `POST /api/v1/projects/{id}/predict` with http.client, 1-item and 64-item requests,
   on HatEval EN dev texts: items/s and latency p50/p99;
4. (a) the bare forward of the same encoder + head in this process on the same texts and batch
   sizes (sentence-transformers encode + the head's matrix product, no Django, no HTTP), the
   rounds interleaved with the REST rounds so load changes hit both alike; goal: REST 64-item
   throughput >= 0.8 of bare;
5. (b) the seed cards' way of serving (seeds 000/001 "How to get started": `clean_tweet` then a
   `transformers.pipeline` called one item at a time) on the same encoder: a feature-extraction
   pipeline + mean pooling + L2 norm + the same head, one item per call.

Prints one figure per line: `name value [unit]`, ratios last.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts bench/ first on sys.path, where sibling modules (bench/queue.py)
# would shadow the standard library (psycopg imports `queue`): put the project root there instead.
_BENCH_DIR = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != _BENCH_DIR]
sys.path.insert(0, str(_BENCH_DIR.parent))

import argparse
import csv
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets" / "hateval2019"
LABELS = ("HS", "TR", "AG")
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/vigia_bench_e2"


def figure(name: str, value: float, unit: str = "") -> None:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"{name} {text}{(' ' + unit) if unit else ''}", flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def hateval(name: str, n: int) -> list[tuple[str, list[str]]]:
    path = DATASETS / name
    rows: list[tuple[str, list[str]]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        # HatEval texts contain quote characters: read with quoting disabled.
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            rows.append((row["text"], [lab for lab in LABELS if row[lab].strip() == "1"]))
            if len(rows) == n:
                break
    return rows


def recreate_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup_project(var_dir: Path, train_rows: int) -> tuple[int, str, Path, float]:
    """Migrate, create user/token/project, train and promote the default model."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from annotator.models import Label, Membership, Project, Role
    from annotator.normalize import normalize
    from models_zoo.backends.base import Item
    from models_zoo.backends.embedding_head import EmbeddingHeadBackend
    from models_zoo.models import ModelVersion
    from models_zoo.services.artifact_storage import local_artifact, save_artifact

    user = get_user_model().objects.create_user("bench", password="bench-pw")
    token = Token.objects.create(user=user).key
    project = Project.objects.create(name="bench", task_type="multilabel", created_by=user)
    for i, name in enumerate(LABELS):
        Label.objects.create(project=project, name=name, order=i)
    Membership.objects.create(user=user, project=project, role=Role.ADMIN)

    items = [
        Item(text=normalize(t), labels=labs) for t, labs in hateval("train_en.tsv", train_rows)
    ]
    train = [it for i, it in enumerate(items) if i % 5]
    validation = [it for i, it in enumerate(items) if not i % 5]
    started = time.perf_counter()
    backend = EmbeddingHeadBackend(list(LABELS), "multilabel")
    report = backend.fit(train, validation)
    fit_seconds = time.perf_counter() - started
    checksum = save_artifact(backend, "bench-v1")  # into VIGIA_STORAGE_URL (var_dir/artifacts)
    ModelVersion.objects.create(
        project=project,
        backend=backend.name,
        config=backend.config.model_dump(mode="json"),
        artifact_dir="bench-v1",
        artifact_checksum=checksum,
        labels=list(LABELS),
        thresholds=report.thresholds,
        metrics=report.metrics,
        is_current=True,
    )
    # The bare reference loads the same stored artifact (this host's copy of it).
    artifact = local_artifact("bench-v1", checksum)
    return project.pk, token, artifact, fit_seconds


class Client:
    def __init__(self, port: int, token: str, project_id: int) -> None:
        self.port = port
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        self.path = f"/api/v1/projects/{project_id}/predict"

    def predict(self, texts: list[str]) -> tuple[float, float, dict]:
        """(seconds on the client, seconds the server spent on the model, answer)."""
        body = json.dumps({"texts": texts})
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request("POST", self.path, body=body, headers=self.headers)
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"predict answered {response.status}: {payload[:500]!r}")
        timing = response.getheader("Server-Timing", "model;dur=nan")
        # First entry is `model;dur=<ms>`; serialize, db and app follow (config/server_timing.py).
        model_seconds = float(timing.split("dur=", 1)[1].split(",")[0].split(";")[0]) / 1000
        return elapsed, model_seconds, json.loads(payload)


def wait_for_server(client: Client, proc: subprocess.Popen, timeout: float = 120) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("runserver exited early; see its output above")
        try:
            # The first answer includes loading the model into the server's cache.
            elapsed, _, _ = client.predict(["warm up"])
            return elapsed
        except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
            time.sleep(0.3)
    raise RuntimeError(f"server did not answer within {timeout}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--train-rows", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=4, help="interleaved REST/bare rounds")
    parser.add_argument("--single-per-round", type=int, default=40)
    parser.add_argument("--batches-per-round", type=int, default=4)
    parser.add_argument("--pipeline-items", type=int, default=160)
    parser.add_argument("--quick", action="store_true", help="a smoke run: few requests")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.single_per_round, args.batches_per_round = 2, 10, 2
        args.pipeline_items, args.train_rows = 40, 200

    # OpenMP threads spin after each parallel region by default; with the server and this
    # process sharing the cores, the idle one's spinning would slow the measured one.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # Debug is off by default, and then settings require a key.
    os.environ.setdefault("VIGIA_SECRET_KEY", "bench-only-secret-key")
    os.environ["DATABASE_URL"] = args.database_url
    var_dir = Path(tempfile.mkdtemp(prefix="vigia-bench-predict-"))
    os.environ["VIGIA_VAR_DIR"] = str(var_dir)

    server: subprocess.Popen | None = None
    try:
        recreate_database(args.database_url)
        project_id, token, artifact, fit_seconds = setup_project(var_dir, args.train_rows)
        import torch

        figure("torch_threads", torch.get_num_threads())
        print(f"omp_wait_policy {os.environ['OMP_WAIT_POLICY']}")
        figure("train_rows", args.train_rows)
        figure("fit_seconds", fit_seconds, "s")

        n_single = args.rounds * args.single_per_round
        n_batch = args.rounds * args.batches_per_round * 64
        from annotator.normalize import normalize

        dev = [t for t, _ in hateval("dev_en.tsv", max(n_single, n_batch, args.pipeline_items))]
        while len(dev) < max(n_single, n_batch, args.pipeline_items):
            dev = dev + dev

        port = free_port()
        env = dict(os.environ, VIGIA_DEBUG="0", PYTHONUNBUFFERED="1")
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Client(port, token, project_id)
        figure(
            "rest_first_request_with_model_load_ms", wait_for_server(client, server) * 1000, "ms"
        )
        for i in range(5):
            client.predict(dev[i : i + 1])
        client.predict(dev[:64])

        # Bare reference: the same artifact, encoder and head, no Django and no HTTP.
        from models_zoo.artifacts import load_backend

        bare = load_backend(artifact)

        def bare_forward(texts: list[str]):
            clean = [normalize(t) or t for t in texts]
            return bare._scores(bare.encode(clean))

        bare_forward(dev[:64])

        rest_single: list[float] = []
        rest_single_model: list[float] = []
        rest_batch_model: list[float] = []
        bare_single: list[float] = []
        rest_batch: list[float] = []
        bare_batch: list[float] = []
        si = bi = 0
        for _ in range(args.rounds):
            for _ in range(args.single_per_round):
                elapsed, model_seconds, _ = client.predict([dev[si]])
                rest_single.append(elapsed)
                rest_single_model.append(model_seconds)
                started = time.perf_counter()
                bare_forward([dev[si]])
                bare_single.append(time.perf_counter() - started)
                si += 1
            for _ in range(args.batches_per_round):
                chunk = dev[bi : bi + 64]
                elapsed, model_seconds, _ = client.predict(chunk)
                rest_batch.append(elapsed)
                rest_batch_model.append(model_seconds)
                started = time.perf_counter()
                bare_forward(chunk)
                bare_batch.append(time.perf_counter() - started)
                bi += 64

        # Seed cards' serving: clean_tweet + a transformers pipeline, one item per call.
        import numpy as np
        from transformers import pipeline

        from models_zoo.backends._encoders import resolve_model_path

        model_path = resolve_model_path(bare.config.encoder)
        pipe = pipeline("feature-extraction", model=model_path, tokenizer=model_path, device="cpu")

        def pipeline_item(text: str) -> np.ndarray:
            tokens = pipe(normalize(text) or text, return_tensors=True, truncation=True)[0]
            vector = tokens.mean(dim=0).numpy()
            vector = vector / max(np.linalg.norm(vector), 1e-12)
            return bare._scores(vector[None, :])[0]

        pipeline_item(dev[0])
        pipe_latency: list[float] = []
        pipe_scores = []
        for text in dev[: args.pipeline_items]:
            started = time.perf_counter()
            pipe_scores.append(pipeline_item(text))
            pipe_latency.append(time.perf_counter() - started)
        same = bare_forward(dev[: args.pipeline_items])
        max_diff = float(np.abs(np.asarray(pipe_scores) - same).max())

        def report(prefix: str, latencies: list[float], per_request: int) -> float:
            total = sum(latencies)
            rate = per_request * len(latencies) / total
            figure(f"{prefix}_items_per_s", rate, "items/s")
            figure(f"{prefix}_latency_p50_ms", percentile(latencies, 50) * 1000, "ms")
            figure(f"{prefix}_latency_p99_ms", percentile(latencies, 99) * 1000, "ms")
            return rate

        figure("rest_1item_requests", len(rest_single))
        r1 = report("rest_1item", rest_single, 1)
        overhead = [e - m for e, m in zip(rest_single, rest_single_model, strict=True)]
        figure("rest_1item_server_model_p50_ms", percentile(rest_single_model, 50) * 1000, "ms")
        figure("rest_1item_http_and_django_overhead_p50_ms", percentile(overhead, 50) * 1000, "ms")
        b1 = report("bare_1item", bare_single, 1)
        figure("rest_64item_requests", len(rest_batch))
        r64 = report("rest_64item", rest_batch, 64)
        overhead = [e - m for e, m in zip(rest_batch, rest_batch_model, strict=True)]
        figure("rest_64item_server_model_p50_ms", percentile(rest_batch_model, 50) * 1000, "ms")
        figure("rest_64item_http_and_django_overhead_p50_ms", percentile(overhead, 50) * 1000, "ms")
        b64 = report("bare_64item", bare_batch, 64)
        figure("pipeline_item_by_item_calls", len(pipe_latency))
        p1 = report("pipeline_item_by_item", pipe_latency, 1)
        figure("pipeline_vs_bare_max_abs_score_diff", max_diff)
        figure("ratio_rest_64item_vs_bare_64item", r64 / b64)
        print(f"goal_rest_64item_at_least_0.8_of_bare {'met' if r64 / b64 >= 0.8 else 'NOT met'}")
        figure("ratio_rest_1item_vs_bare_1item", r1 / b1)
        figure("ratio_rest_64item_vs_pipeline_item_by_item", r64 / p1)
        figure("ratio_rest_1item_vs_pipeline_item_by_item", r1 / p1)
        figure("ratio_bare_64item_vs_pipeline_item_by_item", b64 / p1)
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(args.database_url)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
