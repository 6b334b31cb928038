"""Start-up: `make run` until its URL answers, and the embedded PostgreSQL server's start.

Run (no DATABASE_URL or CELERY_BROKER_URL: this measures the configuration `make run` uses):

    nice .venv/bin/python bench/startup.py [--fresh-clone] [--port 8765]

In one run:
1. reference: `manage.py check` (a bare Django start of this checkout), best of three;
2. the embedded server on a new directory: first start (initdb, start, create the database),
   a restart on the kept data, and joining a running server; each as a ratio to the reference;
3. `make run` on a fresh VIGIA_VAR_DIR with the venv in place (migrate, the demo, web and worker)
   until http://127.0.0.1:PORT/login/ answers, then the second `make run` on the same data;
4. with `--fresh-clone`: `git clone` of this checkout's HEAD into a temp dir, then `make run` there
   (it builds its own .venv: pip's cache decides most of it), until the URL answers.
Each `make run` is stopped with SIGINT to its process group (Ctrl-C) and its stop time printed.
Figures print as `name value`.
"""
from __future__ import annotations

import sys
from pathlib import Path

_BENCH_DIR = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != _BENCH_DIR]
sys.path.insert(0, str(_BENCH_DIR.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402

ROOT = _BENCH_DIR.parent
PYTHON = sys.executable


def _env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(VIGIA_VAR_DIR=str(var_dir), VIGIA_DEMO="true", **extra)
    return env


def reference(var_dir: Path) -> float:
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        subprocess.run([PYTHON, "manage.py", "check"], cwd=ROOT, env=_env(var_dir), check=True,
                       capture_output=True)
        best = min(best, time.perf_counter() - began)
    return best


def embedded_server(var_dir: Path) -> dict[str, float]:
    code = ("import time, sys; from pathlib import Path; t = time.perf_counter(); "
            "from config.embedded_db import ensure_running; ensure_running(Path(sys.argv[1])); "
            "print(time.perf_counter() - t)")
    pgdata = var_dir / "pgdata"

    def start() -> float:
        done = subprocess.run([PYTHON, "-c", code, str(pgdata)], cwd=ROOT, env=_env(var_dir),
                              check=True, capture_output=True, text=True)
        return float(done.stdout.strip().splitlines()[-1])

    first = start()  # initdb + start; stopped again when that process exits (its last user)
    restart = start()
    holder = subprocess.Popen([PYTHON, "-c", code + "; import time; time.sleep(30)", str(pgdata)],
                              cwd=ROOT, env=_env(var_dir), stdout=subprocess.PIPE, text=True)
    holder.stdout.readline()
    join = start()
    holder.terminate()  # SIGTERM: no atexit, so the server stays up (as documented)...
    holder.wait()
    from config.embedded_db import stop

    stop(pgdata)  # ...and is stopped here
    return {"embedded_first_start_s": first, "embedded_restart_s": restart, "embedded_join_s": join}


def make_run(checkout: Path, var_dir: Path, port: int, timeout: float = 1800) -> tuple[float, float]:
    """Seconds from `make run` to the URL answering, and from Ctrl-C to its exit."""
    env = _env(var_dir, PORT=str(port))
    log = open(var_dir.parent / f"make-run-{port}-{time.time():.0f}.log", "w")  # noqa: SIM115
    began = time.perf_counter()
    proc = subprocess.Popen(["make", "run"], cwd=checkout, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/login/"
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.perf_counter() - began > timeout:
                raise SystemExit(f"make run did not answer; see {log.name}") from None
            time.sleep(0.2)
    up = time.perf_counter() - began
    stopping = time.perf_counter()
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=120)
    log.close()
    return up, time.perf_counter() - stopping


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh-clone", action="store_true")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="vigia-bench-startup-"))
    try:
        ref = reference(scratch / "ref")
        print(f"reference_manage_check_s {ref:.2f}")
        for name, value in embedded_server(scratch / "emb").items():
            print(f"{name} {value:.2f}")
            print(f"{name.removesuffix('_s')}_vs_reference {value / ref:.2f}")
        first, stop = make_run(ROOT, scratch / "var", args.port)
        print(f"make_run_first_to_url_s {first:.1f}")
        print(f"make_run_first_vs_reference {first / ref:.2f}")
        print(f"make_run_stop_s {stop:.1f}")
        second, stop = make_run(ROOT, scratch / "var", args.port)
        print(f"make_run_second_to_url_s {second:.1f}")
        print(f"make_run_second_vs_reference {second / ref:.2f}")
        print(f"make_run_stop_s {stop:.1f}")
        if args.fresh_clone:
            clone = scratch / "clone"
            began = time.perf_counter()
            subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
            cloned = time.perf_counter() - began
            up, stop = make_run(clone, clone / "var", args.port)
            print(f"fresh_clone_git_clone_s {cloned:.1f}")
            print(f"fresh_clone_make_run_to_url_s {up:.1f}")
            print(f"fresh_clone_make_run_vs_reference {up / ref:.2f}")
            print(f"make_run_stop_s {stop:.1f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
