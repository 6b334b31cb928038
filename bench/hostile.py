"""Probe a running Vigia the way an outsider would (issue 20) and count server errors.

Run (PostgreSQL and Redis on 127.0.0.1; the probe creates and drops its own database):

    .venv/bin/python bench/hostile.py [--database-url postgres://postgres@127.0.0.1:5432/vigia_hostile]
        [--broker-url redis://127.0.0.1:6379/3] [--clients 8] [--kill-seconds 20] [--quick]

1. creates the database, a project with members of every role, examples, annotations, an
   image, runs and jobs (tests/api/world.py plus more examples), and starts `manage.py serve
   --no-worker` (gunicorn, debug off) on it;
2. **hostile input**: every JSON operation of the OpenAPI schema gets bodies nested 1,000 deep,
   `1e400`, `NaN`, `-Infinity`, integers past int64, NUL and lone surrogates, `null` in each
   documented field; every query parameter of every GET gets `a%00b`, `nan`, `inf`, `1e400`,
   a 40-digit number; the issue's named cases and a set of pages get the same;
3. **leaks**: the image as an outsider and as a static `/media/` file, an annotator's
   `?label=`, `?annotated=` and `?source=` filters (examples only someone else labelled);
4. **broker down**: the server restarted with a broker that refuses connections; every
   endpoint that enqueues is called, then rows left `queued`/`running` are counted;
5. **database loss**: `--clients` threads read and annotate for `--kill-seconds` while every
   backend of the server is terminated (`pg_terminate_backend`) every `--kill-every` seconds;
   server errors on reads, and 500s for writes that were stored, are counted.

Prints `name value` lines: requests and server errors per phase (`*_5xx`), leaks, stuck rows.
Goal: 0 server errors on hostile input, reads and stored writes; 0 leaks; 0 rows stuck (a 503
from an endpoint that needs the broker or the database is the intended answer, counted apart).
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
import random
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import quote

from bench.predict import ROOT, drop_database, figure, free_port, recreate_database
from bench.predict_latency import wait_for_server

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/vigia_hostile"
DEEP = b"[" * 1000 + b"]" * 1000
RAW_VALUES = [b"1e400", b"NaN", b"-Infinity", b"123456789012345678901234567890", b'"a\\u0000b"',
              b'"\\ud800"', b"null", b"[" * 200 + b"]" * 200]
LOGIN_PATH = "/login/"
QUERY_VALUES = ["a\x00b", "nan", "inf", "1e400", "9" * 40, "-1"]


class Client:
    """One keep-alive connection with a token; every answer is counted by status class."""

    def __init__(self, port: int, token: str | None, tally: Counter, errors: list[str],
                 cookie: str | None = None) -> None:
        self.port, self.token, self.tally, self.errors, self.cookie = port, token, tally, errors, cookie
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def send(self, method: str, path: str, body: bytes | None = None,
             content_type: str = "application/json") -> tuple[int, bytes]:
        headers = {"Content-Type": content_type} if body is not None else {}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        if self.cookie:
            headers["Cookie"] = self.cookie
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    self.tally["transport_error"] += 1
                    return 0, b""
        self.tally["requests"] += 1
        self.tally[f"{response.status // 100}xx"] += 1
        if response.status >= 500:
            self.errors.append(f"{response.status} {method} {path[:120]} {body[:80] if body else b''!r}")
        return response.status, payload


def setup_world(var_dir: Path) -> dict[str, Any]:
    """Migrate and build the probe's project (every id a route takes names a real row)."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from annotator.models import Annotation
    from tests.api.factories import make_example
    from tests.api.world import build_world

    User = get_user_model()
    users = {name: User.objects.create_user(name, password=f"pw-{name}")
             for name in ("owner", "annotator", "viewer", "outsider")}
    ids = build_world(users["owner"], users["annotator"], users["viewer"])
    from annotator.models import Project

    project = Project.objects.get(pk=ids["project_id"])
    other = User.objects.get(username="second-annotator")
    for i in range(40):
        example = make_example(project, f"probe tweet {i} about a flood downtown",
                               meta={"event": "ab"[i % 2], "retweet_count": i})
        labeller = (users["owner"], users["annotator"], other)[i % 3]
        Annotation.objects.create(example=example, user=labeller, labels=[["HS"], ["TR"], ["AG"]][i % 3])
    tokens = {name: Token.objects.create(user=user).key for name, user in users.items()}
    from annotator.models import Example

    image = Example.objects.get(pk=ids["example_id"]).image.name
    # The world's prediction job, as a cancelled one with a chunk left to resume.
    from models_zoo.models import PredictionChunk, PredictionJob

    job = PredictionJob.objects.get(pk=ids["prediction_job_id"])
    PredictionChunk.objects.create(job=job, index=0, first_id=ids["example_id"],
                                   last_id=ids["example_id"], examples=1)
    PredictionJob.objects.filter(pk=job.pk).update(state="cancelled", cancel_requested=True)
    return {"ids": ids, "tokens": tokens, "image": image}


def start_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    out = open(log, "ab")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port),
         "--web-workers", "2", "--web-threads", "4"],
        cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True,
    )
    wait_for_server(port, server)
    return server


def stop_server(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(server.pid, signal.SIGKILL)


def fill(path: str, ids: dict[str, int]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", str(value))
    return path


def hostile_input(client: Client, schema: dict[str, Any], ids: dict[str, int], quick: bool) -> None:
    for path, operations in schema["paths"].items():
        url = fill(path, ids)
        if "{" in url:
            continue
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content and method != "get":
                schema_ref = content["application/json"].get("schema", {})
                fields = list(_properties(schema, schema_ref)) or ["value"]
                client.send(method.upper(), url, DEEP)
                for field in fields[:3] if quick else fields:
                    for raw in RAW_VALUES[:4] if quick else RAW_VALUES:
                        client.send(method.upper(), url, b'{"' + field.encode() + b'": ' + raw + b"}")
            if method == "get":
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") != "query":
                        continue
                    for value in QUERY_VALUES[:3] if quick else QUERY_VALUES:
                        client.send("GET", f"{url}?{parameter['name']}={quote(value)}")
    pid, run = ids["project_id"], ids["mining_run_id"]
    named = [
        (f"/api/v1/projects/{pid}/mining", f'{{"label": "HS", "{f}": 1e400}}') for f in ("band", "n", "p", "seed")
    ] + [
        (f"/api/v1/projects/{pid}/samples", f'{{"field": "event", "classes": ["a"], "{f}": 1e400}}')
        for f in ("size", "seed", "quantiles")
    ] + [
        (f"/api/v1/projects/{pid}/search", '{"text": "flood", "k": 1e400}'),
        (f"/api/v1/projects/{pid}/samples", '{"field": "event", "classes": ["a", "b"], "size": 4, "expected_p": null}'),
        (f"/api/v1/projects/{pid}/prediction-jobs", '{"chunk_size": null}'),
    ]
    for url, body in named:
        client.send("POST", url, body.encode())
    for url in (f"/api/v1/projects/{pid}/browse?q=a%00b", f"/api/v1/projects/{pid}/browse?label=%00",
                f"/api/v1/mining/{run}/proposals?status=%00", f"/api/v1/projects/{pid}/index?label=HS&k=nan",
                f"/api/v1/projects/{pid}/index?label=HS&k=inf"):
        client.send("GET", url)


def _properties(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node.get("properties", {})


def pages(client: Client, ids: dict[str, int]) -> None:
    pid = ids["project_id"]
    for path in (f"/projects/{pid}/data/", f"/projects/{pid}/index/", f"/projects/{pid}/",
                 f"/models/projects/{pid}/compare/", f"/projects/{pid}/samples/", f"/projects/{pid}/mining/"):
        for value in QUERY_VALUES:
            for name in ("q", "label", "score_min", "k", "v", "page"):
                client.send("GET", f"{path}?{name}={quote(value)}")


def leaks(port: int, world: dict[str, Any], tally: Counter, errors: list[str]) -> int:
    ids, tokens = world["ids"], world["tokens"]
    outsider = Client(port, tokens["outsider"], tally, errors)
    annotator = Client(port, tokens["annotator"], tally, errors)
    anonymous = Client(port, None, tally, errors)
    found = 0
    image_url = f"/api/v1/projects/{ids['project_id']}/examples/{ids['example_id']}/image"
    found += outsider.send("GET", image_url)[0] == 200
    found += anonymous.send("GET", image_url)[0] == 200
    found += outsider.send("GET", "/media/" + world["image"])[0] == 200
    found += anonymous.send("GET", "/media/" + world["image"])[0] == 200
    from annotator.models import Annotation

    mine = set(Annotation.objects.filter(user__username="annotator").values_list("example_id", flat=True))
    imported = set(Annotation.objects.filter(user__isnull=True).values_list("example_id", flat=True))
    for query in ("label=HS", "label=TR", "label=AG", "annotated=true", "source=human"):
        status, body = annotator.send("GET", f"/api/v1/projects/{ids['project_id']}/examples/?{query}&page_size=200")
        if status == 200:
            found += sum(1 for row in json.loads(body)["results"] if row["id"] not in mine | imported)
    return found


def broker_down(client: Client, ids: dict[str, int]) -> None:
    pid = ids["project_id"]
    for url, body in (
        (f"/api/v1/projects/{pid}/train", '{"backend": "embedding_head"}'),
        (f"/api/v1/projects/{pid}/predict-all", "{}"),
        (f"/api/v1/projects/{pid}/prediction-jobs", f'{{"model_version": {ids["version_id"]}}}'),
        (f"/api/v1/prediction-jobs/{ids['prediction_job_id']}/resume", "{}"),
        (f"/api/v1/projects/{pid}/simulations", "{}"),
        (f"/api/v1/projects/{pid}/embeddings", "{}"),
        (f"/api/v1/projects/{pid}/mining", '{"label": "HS"}'),
        (f"/api/v1/projects/{pid}/negatives-experiments", '{"label": "HS"}'),
    ):
        print("broker_down_status", client.send("POST", url, body.encode())[0], "POST", url, flush=True)
    status, _ = client.send("PATCH", f"/api/v1/projects/{pid}/", b'{"queue_strategy": "margin"}')
    print("broker_down_status", status, "PATCH", f"/api/v1/projects/{pid}/ queue_strategy", flush=True)
    boundary = "probe"
    upload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\ncsv\r\n"
              f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
              f"Content-Type: text/csv\r\n\r\ntext\n" + "a tweet\n" * 50 + f"\r\n--{boundary}--\r\n").encode()
    status, _ = client.send("POST", f"/api/v1/projects/{pid}/import", upload, f"multipart/form-data; boundary={boundary}")
    print("broker_down_status", status, "POST", f"/api/v1/projects/{pid}/import (background)", flush=True)


def stuck_rows() -> set[tuple[str, int]]:
    from annotator.models import EmbeddingSet, ImportJob
    from annotator.models_mining import MiningRun, NegativesExperiment
    from annotator.models_simulation import Simulation
    from models_zoo.models import PredictionJob, TrainingRun

    """(model, id) of every row waiting for a task: queued or running."""
    waiting = {"state__in": ["queued", "running"]}
    rows = [(model, model.objects.filter(**waiting)) for model in
            (TrainingRun, PredictionJob, Simulation, EmbeddingSet, MiningRun, NegativesExperiment)]
    rows.append((ImportJob, ImportJob.objects.filter(status__in=["queued", "running"])))
    return {(model.__name__, pk) for model, query in rows for pk in query.values_list("pk", flat=True)}


def database_loss(port: int, world: dict[str, Any], database_url: str, clients: int, seconds: float,
                  kill_every: float, kill_mode: str) -> dict[str, int]:
    import psycopg

    from annotator.models import Annotation, Example

    ids, token = world["ids"], world["tokens"]["annotator"]
    pid = ids["project_id"]
    example_ids = list(Example.objects.filter(project_id=pid).values_list("pk", flat=True))
    stop = time.monotonic() + seconds
    counts: Counter = Counter()
    lock = threading.Lock()
    writes: list[tuple[int, int, str]] = []  # (status, example, label) of each write

    def work(seed: int) -> None:
        rng = random.Random(seed)
        local: Counter = Counter()
        client = Client(port, token, local, [])
        reads = [f"/api/v1/projects/{pid}/examples/?page_size=20", f"/api/v1/projects/{pid}/",
                 f"/api/v1/projects/{pid}/examples/{ids['example_id']}/", "/api/v1/me",
                 f"/api/v1/projects/{pid}/labels/"]
        while time.monotonic() < stop:
            if rng.random() < 0.7:
                status, _ = client.send("GET", rng.choice(reads))
                local["reads"] += 1
                local["read_5xx"] += status >= 500 or status == 0
            else:
                example = rng.choice(example_ids)
                label = rng.choice(["HS", "TR", "AG"])
                status, _ = client.send("POST", f"/api/v1/projects/{pid}/examples/{example}/annotations",
                                        json.dumps({"labels": [label]}).encode())
                local["writes"] += 1
                with lock:
                    writes.append((status, example, label))
        with lock:
            counts.update(local)

    def killer() -> None:
        # "one": a random backend of the server at a time (the probe: 104 backends over
        # its run); "all": every backend at once, so a read's one retry may be killed too.
        pick = "ORDER BY random() LIMIT 1" if kill_mode == "one" else ""
        with psycopg.connect(database_url, autocommit=True) as admin:
            while time.monotonic() < stop:
                time.sleep(kill_every)
                killed = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM (SELECT pid FROM pg_stat_activity "
                    f"WHERE datname = current_database() AND pid <> pg_backend_pid() {pick}) t").fetchone()[0]
                counts["backends_killed"] += killed

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    threads.append(threading.Thread(target=killer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    from django.db import connection

    connection.close()  # killed too
    for status, example, label in writes:
        if status >= 500:
            counts["write_5xx"] += 1
            stored = Annotation.objects.filter(example_id=example, user__username="annotator",
                                               labels=[label]).exists()
            counts["write_500_stored"] += status == 500 and stored
            counts["write_503"] += status == 503
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--broker-url", default=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/3"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--kill-seconds", type=float, default=20.0)
    parser.add_argument("--kill-every", type=float, default=0.2, help="seconds between kills")
    parser.add_argument("--kill-mode", choices=["one", "all"], default="one",
                        help="terminate one random backend of the server, or all of them, each time")
    parser.add_argument("--quick", action="store_true", help="fewer values per field, a short kill phase")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.kill_seconds = min(args.kill_seconds, 8.0)

    var_dir = Path(tempfile.mkdtemp(prefix="vigia-hostile-"))
    os.environ.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=args.database_url,
                      CELERY_BROKER_URL=args.broker_url, VIGIA_VAR_DIR=str(var_dir),
                      VIGIA_SECRET_KEY=os.environ.get("VIGIA_SECRET_KEY", "probe-only-secret-key-hostile"),
                      HF_HUB_OFFLINE="1")
    log = var_dir / "server.log"
    env = dict(os.environ, VIGIA_DEBUG="0", PYTHONUNBUFFERED="1", VIGIA_IMPORT_ASYNC_BYTES="100")
    port = free_port()
    server = None
    errors: list[str] = []
    try:
        recreate_database(args.database_url)
        world = setup_world(var_dir)
        server = start_server(port, env, log)
        ids, owner = world["ids"], world["tokens"]["owner"]

        tally: Counter = Counter()
        client = Client(port, owner, tally, errors)
        schema = json.loads(client.send("GET", "/api/v1/schema/?format=json")[1])
        started = time.perf_counter()
        hostile_input(client, schema, ids, args.quick)
        pages(Client(port, None, tally, errors, cookie=session_cookie(port, "owner")), ids)
        figure("hostile_requests", tally["requests"])
        figure("hostile_5xx", tally["5xx"])
        figure("hostile_4xx", tally["4xx"])
        figure("hostile_seconds", time.perf_counter() - started, "s")

        leak_tally: Counter = Counter()
        figure("leaks", leaks(port, world, leak_tally, errors))
        figure("leak_probe_requests", leak_tally["requests"])
        figure("leak_probe_5xx", leak_tally["5xx"])

        stop_server(server)
        from models_zoo.models import ModelVersion

        # predict-all needs a current version (its artifact is never loaded: no worker runs).
        ModelVersion.objects.filter(pk=ids["version_id"]).update(is_current=True)
        server = start_server(port, dict(env, CELERY_BROKER_URL="redis://127.0.0.1:1/0"), log)
        broker_tally: Counter = Counter()
        broker_errors: list[str] = []
        before = stuck_rows()
        started = time.perf_counter()
        broker_down(Client(port, owner, broker_tally, broker_errors), ids)
        figure("broker_down_requests", broker_tally["requests"])
        figure("broker_down_503", sum(1 for e in broker_errors if e.startswith("503")))
        figure("broker_down_other_5xx", sum(1 for e in broker_errors if not e.startswith("503")))
        figure("broker_down_seconds", time.perf_counter() - started, "s")
        figure("broker_down_rows_stuck", len(stuck_rows() - before))  # rows this phase left waiting
        errors += [e for e in broker_errors if not e.startswith("503")]

        stop_server(server)
        server = start_server(port, env, log)
        counts = database_loss(port, world, args.database_url, args.clients, args.kill_seconds,
                               args.kill_every, args.kill_mode)
        for name in ("requests", "reads", "read_5xx", "writes", "write_5xx", "write_503",
                     "write_500_stored", "backends_killed", "transport_error"):
            figure(f"db_loss_{name}", counts[name])
    finally:
        if server is not None:
            stop_server(server)
        for line in errors[:30]:
            print("server error:", line, flush=True)
        if not args.keep_db:
            from django.db import connections

            connections.close_all()
            drop_database(args.database_url)
        print(f"server log: {log}", flush=True)


def session_cookie(port: int, username: str) -> str:
    """Log in through the login form (pages take the session, not a token); the Cookie value."""
    from http.cookies import SimpleCookie

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", LOGIN_PATH)
    response = conn.getresponse()
    response.read()
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    csrf = jar["csrftoken"].value
    body = f"username={username}&password=pw-{username}&csrfmiddlewaretoken={csrf}".encode()
    conn.request("POST", LOGIN_PATH, body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}",
        "Referer": f"http://127.0.0.1:{port}{LOGIN_PATH}"})
    response = conn.getresponse()
    response.read()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    conn.close()
    if "sessionid" not in jar:
        raise RuntimeError(f"could not log in as {username}")
    return f"sessionid={jar['sessionid'].value}; csrftoken={csrf}"


if __name__ == "__main__":
    main()
