"""32 concurrent clients, one-item predict: the production server (gunicorn, what `manage.py
serve` starts) against Django's development server, in the same run.

Run (PostgreSQL on 127.0.0.1; the bench creates and drops its own database; needs the shared
HatEval set for training and request texts):

    HF_HUB_OFFLINE=1 nice .venv/bin/python bench/concurrency.py [--seconds 60] [--clients 32]
        [--web-workers 2 --web-threads 4] [--database-url postgres://.../vigia_bench_conc]

What it does:
1. the setup of bench/predict.py: a bench database, a user with a token, a multilabel HS/TR/AG
   project and a current `embedding_head` version (packaged MiniLM + logistic regression) trained
   on HatEval EN rows;
2. starts `manage.py serve --no-worker` (gunicorn gthread) on loopback, warms every worker, and
   runs `--clients` threads for `--seconds`, each posting `{"texts": [one tweet]}` to
   `/api/v1/projects/{id}/predict` on a new connection per request;
3. the same against `manage.py runserver --noreload` (the server `make run` used before);
4. prints, per server, requests/s, errors (non-200 answers, refused or reset connections,
   timeouts), latency p50/p95/p99 in ms; then gunicorn/runserver ratios.

Prints one figure per line: `name value [unit]`, ratios last.
"""

from __future__ import annotations

import sys
from pathlib import Path

# As in bench/predict.py: keep bench/ off sys.path (bench/queue.py would shadow `queue`).
_BENCH_DIR = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != _BENCH_DIR]
sys.path.insert(0, str(_BENCH_DIR.parent))

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from bench.predict import (
    ROOT,
    drop_database,
    figure,
    free_port,
    hateval,
    percentile,
    recreate_database,
    setup_project,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/vigia_bench_conc"


def post_predict(port: int, path: str, headers: dict[str, str], text: str) -> tuple[int, float]:
    """(HTTP status or 0 for a connection error, seconds)."""
    body = json.dumps({"texts": [text]})
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        status = response.status
    except (OSError, http.client.HTTPException):
        status = 0
    finally:
        conn.close()
    return status, time.perf_counter() - started


def wait_until_serving(port: int, path: str, headers: dict[str, str], proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited early")
        if post_predict(port, path, headers, "warm up")[0] == 200:
            return
        time.sleep(0.5)
    raise RuntimeError("the server did not answer within 180 s")


def load(port: int, path: str, headers: dict[str, str], texts: list[str], clients: int,
         seconds: float) -> tuple[list[float], int, int, float]:
    """`clients` threads posting one-item requests for `seconds`: (latencies of the 200s,
    requests, errors, wall seconds)."""
    latencies: list[float] = []
    counts = {"requests": 0, "errors": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(offset: int) -> None:
        i = offset
        while time.monotonic() < stop_at:
            status, elapsed = post_predict(port, path, headers, texts[i % len(texts)])
            i += clients
            with lock:
                counts["requests"] += 1
                if status == 200:
                    latencies.append(elapsed)
                else:
                    counts["errors"] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, counts["requests"], counts["errors"], time.perf_counter() - started


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def measure(name: str, command: list[str], env: dict[str, str], port: int, path: str,
            headers: dict[str, str], texts: list[str], args: argparse.Namespace) -> float:
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until_serving(port, path, headers, proc)
        # Every gunicorn worker loads the model on its first request: warm them all up.
        load(port, path, headers, texts, args.clients, 3.0)
        latencies, requests, errors, wall = load(port, path, headers, texts, args.clients,
                                                 args.seconds)
    finally:
        stop(proc)
    rps = len(latencies) / wall
    figure(f"{name}_requests", requests)
    figure(f"{name}_errors", errors)
    figure(f"{name}_ok_requests_per_s", rps, "req/s")
    for q in (50, 95, 99):
        figure(f"{name}_p{q}_ms", percentile(latencies, q) * 1000, "ms")
    return rps, percentile(latencies, 99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--seconds", type=float, default=60.0, help="load per server")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--train-rows", type=int, default=300)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    # SIGTERM (e.g. `kill`) unwinds through the `finally` blocks: servers stopped, database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("VIGIA_SECRET_KEY", "bench-only-secret-key")
    os.environ["DATABASE_URL"] = args.database_url
    var_dir = Path(tempfile.mkdtemp(prefix="vigia-bench-concurrency-"))
    os.environ["VIGIA_VAR_DIR"] = str(var_dir)
    try:
        recreate_database(args.database_url)
        project_id, token, _, fit_seconds = setup_project(var_dir, args.train_rows)
        figure("fit_seconds", fit_seconds, "s")
        figure("clients", args.clients)
        figure("seconds_per_server", args.seconds, "s")
        texts = [t for t, _ in hateval("dev_en.tsv", 500)]
        path = f"/api/v1/projects/{project_id}/predict"
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        env = {k: v for k, v in os.environ.items() if k != "VIGIA_DEBUG"}
        env["PYTHONUNBUFFERED"] = "1"

        port = free_port()
        figure("gunicorn_workers", args.web_workers)
        figure("gunicorn_threads", args.web_threads)
        gunicorn = measure(
            "gunicorn",
            [sys.executable, "manage.py", "serve", "--no-worker", "--port", str(port),
             "--web-workers", str(args.web_workers), "--web-threads", str(args.web_threads)],
            env, port, path, headers, texts, args,
        )
        port = free_port()
        # runserver starts a thread per request: a persistent connection per thread would pile
        # up to one per request until garbage collection (PostgreSQL runs out of slots).
        runserver = measure(
            "runserver",
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            {**env, "VIGIA_DB_CONN_MAX_AGE": "0"}, port, path, headers, texts, args,
        )
        figure("gunicorn_over_runserver_requests_per_s", gunicorn[0] / runserver[0] if runserver[0] else float("nan"))
        figure("gunicorn_over_runserver_p99", gunicorn[1] / runserver[1] if runserver[1] else float("nan"))
    finally:
        if not args.keep_db:
            drop_database(args.database_url)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
