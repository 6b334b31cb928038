"""Start the web server and a Celery worker together, and keep them running; Ctrl-C stops both.

The web server is gunicorn with gthread workers: Vigia is a synchronous Django/WSGI app whose
heavy work (model forwards) is CPU-bound and releases the GIL inside torch, so a few processes
with a few threads each serve concurrent clients without an async rewrite; gunicorn restarts a
web worker that dies or hangs (`--timeout`). `--server runserver` keeps Django's development
server for debugging only (it is not safe or fast under concurrent load).

Supervision: a Celery worker that exits is started again (at once, then after a growing pause
if it keeps dying within seconds of its start); the web server never depends on it. When the
web server exits, everything stops. Each child leads its own process group, so a signal meant
for one (a killed worker's pool included) never reaches the other; Ctrl-C and SIGTERM reach
this command, which stops both.

With the embedded database (DATABASE_URL unset) this command holds the server for its whole
life (config/embedded_db): started here if needed, stopped when the last process using it is
gone, normally this one, after its children.

`--demo` (what `make run` uses) first migrates and creates the demo (`bootstrap_demo`), sends
the children's output to log files under $VIGIA_VAR_DIR/log, and prints one screen: what runs,
the URL once it answers, and the logins.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config.embedded_db import ensure_running, running
from models_zoo.management.commands.bootstrap_demo import build_demo

# A worker that dies this soon after its start waits before the next one (2, 4, ... 30 s).
_QUICK_DEATH_SECONDS = 30.0
_MAX_RESTART_PAUSE = 30.0


class Child:
    """A supervised child process: its command, its output, and how often it was restarted."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: IO[str] | None) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restarts = 0
        self.pause_until = 0.0
        self.quick_deaths = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command, cwd=settings.BASE_DIR, env=self.env, start_new_session=True,
            stdout=self.log or None, stderr=subprocess.STDOUT if self.log else None,
        )
        self.started_at = time.monotonic()

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                pass

    def wait(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait(timeout=10)


class Command(BaseCommand):
    help = (
        "Run the web server (gunicorn on $PORT, default 8000) and a Celery worker as one unit: "
        "a worker that exits is restarted, the web server keeps serving meanwhile; when the web "
        "server exits, the worker is stopped too. Ctrl-C stops both. With DATABASE_URL unset, "
        "the embedded PostgreSQL server is started if needed and stopped after them when no "
        "other process uses it. --demo (make run) also migrates, creates the demo and logs to "
        "files under $VIGIA_VAR_DIR/log."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("VIGIA_HOST", "127.0.0.1"))
        parser.add_argument("--concurrency", type=int, default=1, help="Celery worker processes")
        parser.add_argument(
            "--web-workers", type=int, default=int(os.environ.get("VIGIA_WEB_WORKERS", "2")),
            help="gunicorn worker processes (each loads the current model once)",
        )
        parser.add_argument(
            "--web-threads", type=int, default=int(os.environ.get("VIGIA_WEB_THREADS", "4")),
            help="threads per gunicorn worker",
        )
        parser.add_argument(
            "--server", choices=["gunicorn", "runserver"], default="gunicorn",
            help="gunicorn (default) or Django's development server (debugging only)",
        )
        parser.add_argument("--no-worker", action="store_true", help="start the web server only")
        parser.add_argument(
            "--demo", action="store_true",
            help="first migrate and create the demo (bootstrap_demo); print one screen and log "
            "to files (what `make run` does)",
        )
        parser.add_argument(
            "--log-dir", default=None,
            help="write the web server's and the worker's output to web.log and worker.log "
            "here instead of the console (default with --demo: $VIGIA_VAR_DIR/log)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if options["demo"]:
            # One screen: the setup's INFO lines (server started, rows imported) stay out of it.
            logging.disable(logging.INFO)
        try:
            db_note = self._hold_database()
            demo = self._prepare_demo() if options["demo"] else None
        finally:
            logging.disable(logging.NOTSET)
        log_dir = options["log_dir"] or (str(settings.VAR_DIR / "log") if options["demo"] else None)
        children = self._children(options, Path(log_dir) if log_dir else None)
        url = f"http://{'localhost' if options['host'] in ('127.0.0.1', '0.0.0.0') else options['host']}:{options['port']}/"
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        # Before the children start: from here on Ctrl-C means "stop them", never a traceback
        # that leaves them running in their own process groups.
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for child in children.values():
            child.start()
        web = children["web server"]
        answered = self._wait_for_web(options["host"], options["port"], web, lambda: stopping)
        if answered:
            self._print_screen(url, time.monotonic() - started, options, children, db_note, demo)
        exit_code = self._supervise(children, lambda: stopping)
        self._stop_children(children)
        what = "web server and worker" if "worker" in children else "web server"
        if db_note:
            what += "; the embedded database stops with the last process using it"
        self.stdout.write(f"Stopped the {what}.")
        if exit_code:
            sys.exit(exit_code)

    # --- setup ----------------------------------------------------------------------------
    def _hold_database(self) -> str:
        """With the embedded server: start it (or find it) now, so this process holds it for
        the children's whole life. Returns a line for the screen ("" for an external one)."""
        db = settings.DATABASES["default"]
        if db["ENGINE"] != "config.embedded_db":
            return ""

        pgdata = Path(db["PGDATA"])
        began = time.monotonic()
        already = running(pgdata) is not None
        ensure_running(pgdata)
        how = "already running" if already else f"started in {time.monotonic() - began:.1f} s"
        return f"embedded PostgreSQL in {_shown(pgdata)} ({how})"

    def _prepare_demo(self) -> Any:
        call_command("migrate", interactive=False, verbosity=0)
        return build_demo()

    def _children(self, options: dict[str, Any], log_dir: Path | None) -> dict[str, Child]:
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        logs: dict[str, IO[str] | None] = {"web server": None, "worker": None}
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            logs = {"web server": open(log_dir / "web.log", "a", buffering=1),  # noqa: SIM115
                    "worker": open(log_dir / "worker.log", "a", buffering=1)}  # noqa: SIM115
        children: dict[str, Child] = {}
        if not options["no_worker"]:
            children["worker"] = Child("worker", worker_command(python, options["concurrency"]),
                                       env, logs["worker"])
        web_env = dict(env)
        if options["server"] == "runserver":
            # A thread per request: persistent connections would pile up, one per request.
            web_env["VIGIA_DB_CONN_MAX_AGE"] = "0"
        children["web server"] = Child("web server", web_server_command(python, manage, options),
                                       web_env, logs["web server"])
        return children

    def _wait_for_web(self, host: str, port: int, web: Child, stopping: Any) -> bool:
        """Until the web server accepts connections (True), exits or is stopped (False)."""
        target = "127.0.0.1" if host in ("0.0.0.0", "") else host
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not stopping() and web.exited() is None:
            try:
                with socket.create_connection((target, port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.2)
        return False

    def _print_screen(self, url: str, seconds: float, options: dict[str, Any],
                      children: dict[str, Child], db_note: str, demo: Any) -> None:
        out = self.stdout.write
        out(self.style.SUCCESS(f"Vigia is running at {url}") + f"  (ready in {seconds:.1f} s)")
        if demo is not None:
            if demo.new_logins:
                out(f"  logins:     admin / {demo.password} (project admin), annotator / {demo.password}")
            else:
                out("  logins:     admin, annotator (passwords as set on the first run)")
            first = (f"; its first model is training in the background (run #{demo.training_run})"
                     if demo.training_run else
                     f", model version #{demo.current_version} serving" if demo.current_version else "")
            out(f"  demo:       project #{demo.project.pk}, {demo.examples} tweets{first}")
        web = children["web server"]
        where = f" -> {_shown(Path(web.log.name))}" if web.log else ""
        if options["server"] == "gunicorn":
            out(f"  web:        gunicorn, {options['web_workers']} workers x {options['web_threads']} threads{where}")
        else:
            out(f"  web:        Django development server (debugging only){where}")
        if "worker" in children:
            worker = children["worker"]
            where = f" -> {_shown(Path(worker.log.name))}" if worker.log else ""
            out(f"  worker:     celery, {options['concurrency']} process(es), restarted if it dies{where}")
        out(f"  database:   {db_note or 'PostgreSQL at DATABASE_URL'}")
        broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
        out(f"  broker:     {broker}" + (f" in {_shown(settings.VAR_DIR / 'broker')}" if broker == "filesystem" else ""))
        out("Ctrl-C stops everything.")

    def _stop_children(self, children: dict[str, Child]) -> None:
        """SIGTERM both: gunicorn finishes its requests, the worker its current task (a warm
        shutdown), for up to 15 s; a second Ctrl-C, or the deadline, kills what is left."""
        hurry = False

        def now(signum: int, frame: Any) -> None:
            nonlocal hurry
            hurry = True

        signal.signal(signal.SIGINT, now)
        for child in children.values():
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        said = False
        while time.monotonic() < deadline and not hurry:
            if all(child.exited() is not None or child.process is None for child in children.values()):
                return
            if not said and time.monotonic() > deadline - 13:
                self.stdout.write("Waiting for the worker to finish its current task "
                                  "(Ctrl-C again stops it now)...")
                said = True
            time.sleep(0.2)
        for child in children.values():
            child.wait(time.monotonic())  # kills what still runs

    # --- supervision ----------------------------------------------------------------------
    def _supervise(self, children: dict[str, Child], stopping: Any) -> int:
        """Until stopped or the web server exits (its exit code): restart a worker that died."""
        while not stopping():
            web_code = children["web server"].exited()
            if web_code is not None:
                self.stderr.write(f"The web server exited with code {web_code}; stopping.")
                return web_code or 1
            worker = children.get("worker")
            if worker is not None:
                self._keep_worker(worker)
            time.sleep(0.3)
        return 0

    def _keep_worker(self, worker: Child) -> None:
        now = time.monotonic()
        if worker.process is None:
            if now >= worker.pause_until:
                worker.start()
            return
        code = worker.exited()
        if code is None:
            return
        lived = now - worker.started_at
        worker.quick_deaths = worker.quick_deaths + 1 if lived < _QUICK_DEATH_SECONDS else 0
        pause = min(_MAX_RESTART_PAUSE, 2.0 ** worker.quick_deaths) if worker.quick_deaths > 1 else 0.0
        worker.restarts += 1
        worker.process = None
        worker.pause_until = now + pause
        when = f" in {pause:.0f} s" if pause else ""
        self.stderr.write(
            f"The worker exited with code {code} after {lived:.0f} s; restarting it{when} "
            f"(restart {worker.restarts})."
        )


def _shown(path: Path) -> str:
    """A path relative to the checkout when it is inside it (var/log/web.log)."""
    try:
        return str(Path(path).resolve().relative_to(settings.BASE_DIR))
    except ValueError:
        return str(path)


def worker_command(python: str, concurrency: int) -> list[str]:
    """The command line of the Celery worker `serve` starts (the default queue, and the GPU
    queue when VIGIA_GPU_QUEUE is set)."""
    queues = settings.CELERY_TASK_DEFAULT_QUEUE
    if settings.VIGIA_GPU_QUEUE:
        queues += f",{settings.VIGIA_GPU_QUEUE}"
    return [python, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO",
            f"--concurrency={concurrency}", "-Q", queues]


def web_server_command(python: str, manage: str, options: dict[str, Any]) -> list[str]:
    """The command line of the web server `serve` starts."""
    bind = f"{options['host']}:{options['port']}"
    if options["server"] == "runserver":
        return [python, manage, "runserver", bind, "--noreload"]
    return [
        python, "-m", "gunicorn", "config.wsgi:application",
        "--bind", bind,
        "--worker-class", "gthread",
        "--workers", str(max(1, options["web_workers"])),
        "--threads", str(max(1, options["web_threads"])),
        # A request slower than this (a huge import done inline) gets its worker restarted.
        "--timeout", os.environ.get("VIGIA_WEB_TIMEOUT", "300"),
        "--graceful-timeout", "20",
        "--keep-alive", "5",
        # Behind a proxy on the same host; X-Forwarded-* from elsewhere is ignored.
        "--forwarded-allow-ips", os.environ.get("VIGIA_FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
        # The control socket lives at one path per user: two instances on a host would clash.
        "--no-control-socket",
        "--access-logfile", "-",
        "--error-logfile", "-",
    ]
