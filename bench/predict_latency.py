"""Latency of one prediction over HTTP against the production server, split by Server-Timing.

Run (PostgreSQL on 127.0.0.1; the bench creates and drops its own database):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/predict_latency.py [--requests 300] [--quick]
        [--database-url postgres://postgres@127.0.0.1:5432/vigia_bench_latency]

1. creates the bench database, a user with a token and a multilabel HS/TR/AG project, and trains
   the default model (`embedding_head`: packaged all-MiniLM-L6-v2 + logistic regression) on a
   few hundred HatEval EN rows; the version is current (setup shared with bench/predict.py);
2. starts `manage.py serve --no-worker` (gunicorn gthread, as in production; one worker, since
   one keep-alive connection is served by one worker anyway) on that database, debug off;
3. over ONE keep-alive HTTP connection, interleaved, request after request:
   - `POST /api/v1/projects/{id}/predict` with one HatEval EN dev tweet (token auth);
   - `GET /healthz`: gunicorn + the middleware stack, no auth, no DB: the framework floor;
   - in this process, the bare model call on the same tweet: `backend.predict([item])` of the
     same artifact on a persistent inference thread as the server runs it (normalisation +
     encoder + head, no Django, no HTTP): the model floor.
4. reads the server's `Server-Timing` (model, serialize, db, app; config/server_timing.py).

Prints `name value [unit]` lines: p50/p95 of the client's total, the server's split
(model / serialisation / database / rest of the framework / HTTP and gunicorn), the two floors,
and ratios against them. Goal: predict p50 under 20 ms.
"""

from __future__ import annotations

import sys
from pathlib import Path

_BENCH_DIR = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != _BENCH_DIR]
sys.path.insert(0, str(_BENCH_DIR.parent))

import argparse
import http.client
import json
import os
import shutil
import subprocess
import tempfile
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

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/vigia_bench_latency"


def parse_server_timing(header: str) -> dict[str, float]:
    """{"model": seconds, ...} from `model;dur=9.8, db;dur=1.2;desc="4 queries", ...`."""
    out: dict[str, float] = {}
    for entry in header.split(","):
        name, *params = (p.strip() for p in entry.split(";"))
        for param in params:
            if param.startswith("dur="):
                out[name] = float(param[4:]) / 1000
    return out


class KeepAliveClient:
    """One persistent HTTP/1.1 connection; reconnects only if the server closed it."""

    def __init__(self, port: int, token: str, project_id: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.predict_headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
        }
        self.predict_path = f"/api/v1/projects/{project_id}/predict"
        self.reconnects = 0

    def _request(self, method: str, path: str, body: bytes | None, headers: dict[str, str]):
        for attempt in (1, 2):
            try:
                started = time.perf_counter()
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                return time.perf_counter() - started, response, payload
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if attempt == 2:
                    raise
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                self.reconnects += 1
        raise AssertionError("unreachable")

    def predict(self, text: str) -> tuple[float, dict[str, float], dict]:
        body = json.dumps({"texts": [text]}).encode()
        elapsed, response, payload = self._request("POST", self.predict_path, body,
                                                   self.predict_headers)
        if response.status != 200:
            raise RuntimeError(f"predict answered {response.status}: {payload[:300]!r}")
        timing = parse_server_timing(response.getheader("Server-Timing", ""))
        return elapsed, timing, json.loads(payload)

    def health(self) -> float:
        elapsed, response, payload = self._request("GET", "/healthz", None, {})
        if response.status != 200:
            raise RuntimeError(f"/healthz answered {response.status}: {payload[:300]!r}")
        return elapsed


def wait_for_server(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited early; rerun with --server-log to see why")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server did not answer within {timeout}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--train-rows", type=int, default=400)
    parser.add_argument("--requests", type=int, default=300, help="one-item predict requests")
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="a smoke run: few requests")
    parser.add_argument("--server-log", action="store_true", help="show gunicorn's output")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.train_rows = 30, 200

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("VIGIA_SECRET_KEY", "bench-only-secret-key-predict-latency")
    os.environ["DATABASE_URL"] = args.database_url
    var_dir = Path(tempfile.mkdtemp(prefix="vigia-bench-latency-"))
    os.environ["VIGIA_VAR_DIR"] = str(var_dir)

    server: subprocess.Popen | None = None
    try:
        recreate_database(args.database_url)
        project_id, token, artifact, _ = setup_project(var_dir, args.train_rows)
        texts = [t for t, _ in hateval("dev_en.tsv", args.requests)]
        while len(texts) < args.requests:
            texts = texts + texts

        port = free_port()
        env = dict(os.environ, VIGIA_DEBUG="0", PYTHONUNBUFFERED="1")
        out = None if args.server_log else subprocess.DEVNULL
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--no-worker", "--host", "127.0.0.1",
             "--port", str(port), "--web-workers", "1", "--web-threads", str(args.web_threads)],
            cwd=ROOT, env=env, stdout=out, stderr=out,
            start_new_session=True,  # so the whole group (serve + gunicorn) is stopped
        )
        wait_for_server(port, server)
        client = KeepAliveClient(port, token, project_id)
        started = time.perf_counter()
        client.predict("warm up: loads the model into the worker")
        figure("first_request_with_model_load_ms", (time.perf_counter() - started) * 1000, "ms")
        for text in texts[:10]:
            client.predict(text)
            client.health()

        from annotator.normalize import normalize
        from models_zoo.artifacts import load_backend
        from models_zoo.backends.base import Item
        from models_zoo.serving import inference_executor

        bare_backend = load_backend(artifact)
        executor = inference_executor()

        def bare_predict(text: str):
            # As the server runs it: on the persistent inference thread (models_zoo.serving).
            items = [Item(text=normalize(text) or text)]
            return executor.submit(bare_backend.predict, items).result()

        for text in texts[:10]:
            bare_predict(text)
        import torch

        figure("torch_threads_bench_process", executor.submit(torch.get_num_threads).result())

        totals, healths, bares = [], [], []
        parts: dict[str, list[float]] = {"model": [], "serialize": [], "db": [], "app": []}
        framework, transport = [], []
        for text in texts[: args.requests]:
            elapsed, timing, answer = client.predict(text)
            assert len(answer["predictions"]) == 1
            totals.append(elapsed)
            for name in parts:
                parts[name].append(timing.get(name, float("nan")))
            framework.append(timing["app"] - timing["model"] - timing["serialize"] - timing["db"])
            transport.append(elapsed - timing["app"])
            healths.append(client.health())
            started = time.perf_counter()
            bare_predict(text)
            bares.append(time.perf_counter() - started)

        def ms(values: list[float], q: float) -> float:
            return percentile(values, q) * 1000

        figure("requests", len(totals))
        figure("connection_reconnects", client.reconnects)
        figure("predict_1item_p50_ms", ms(totals, 50), "ms")
        figure("predict_1item_p95_ms", ms(totals, 95), "ms")
        for name, values in parts.items():
            figure(f"server_{name}_p50_ms", ms(values, 50), "ms")
        figure("server_framework_rest_p50_ms", ms(framework, 50), "ms")
        figure("http_and_gunicorn_p50_ms", ms(transport, 50), "ms")
        figure("healthz_p50_ms", ms(healths, 50), "ms")
        figure("bare_model_predict_p50_ms", ms(bares, 50), "ms")
        p50 = percentile(totals, 50)
        figure("ratio_predict_p50_vs_bare_model_p50", p50 / percentile(bares, 50))
        figure("ratio_server_model_p50_vs_bare_model_p50",
               percentile(parts["model"], 50) / percentile(bares, 50))
        figure("ratio_predict_minus_model_p50_vs_healthz_p50",
               (p50 - percentile(parts["model"], 50)) / percentile(healths, 50))
        print(f"goal_predict_1item_p50_under_20ms {'met' if p50 < 0.020 else 'NOT met'}")
    finally:
        if server is not None and server.poll() is None:
            import signal

            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(args.database_url)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
