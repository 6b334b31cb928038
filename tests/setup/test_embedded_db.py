"""The embedded PostgreSQL server (config/embedded_db), as `make run` uses it: every process on a
VIGIA_VAR_DIR shares one server, the data outlives it, and it stops with its last user."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from config.embedded_db import running
from tests.stack import ROOT

pytestmark = pytest.mark.embedded

# A Django process on the stack's configuration that records what it saw in a JSON line.
_WHO = (
    "import json, os; from django.db import connection; from config.embedded_db import running; "
    "from django.conf import settings; from pathlib import Path; "
    "cur = connection.cursor(); cur.execute('select current_database()'); "
    "print(json.dumps({'db': cur.fetchone()[0], 'server': running(Path(settings.DATABASES['default']['PGDATA'])).pid, "
    "'pid': os.getpid()}))"
)


def _users(stack) -> list[int]:
    path = stack.var_dir / "pgserver-users.json"
    return json.loads(path.read_text()) if path.exists() else []


def _holder(stack, seconds: float = 60) -> subprocess.Popen:
    """A process that connects (starting or joining the server), says so, then waits."""
    code = _WHO + f"; import sys, time; sys.stdout.flush(); time.sleep({seconds})"
    proc = subprocess.Popen([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT,
                            env=stack.env, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    while line and not line.startswith("{"):  # the shell's own banner first
        line = proc.stdout.readline()
    assert line, "the holder process said nothing"
    proc.seen = json.loads(line)  # type: ignore[attr-defined]
    return proc


def test_two_processes_share_one_server_and_see_each_others_writes(demo_stack):
    demo_stack.manage("migrate", "--noinput")
    assert running(demo_stack.pgdata) is None  # migrate was its only user: stopped with it
    first = _holder(demo_stack)
    try:
        server = running(demo_stack.pgdata)
        assert server is not None and first.seen["server"] == server.pid
        assert first.seen["db"] == "vigia"
        demo_stack.manage("shell", "-c",
                          "from django.contrib.auth.models import User; User.objects.create(username='alice')")
        second = demo_stack.shell(
            _WHO.replace("'pid': os.getpid()}", "'pid': os.getpid(), 'alice': "
                         "__import__('django.contrib.auth.models').contrib.auth.models.User.objects.filter(username='alice').exists()}")
        )
        assert second["server"] == server.pid  # joined, not a second server
        assert second["alice"] is True
        assert first.pid in _users(demo_stack)  # the holder still counts as a user
        assert running(demo_stack.pgdata) is not None  # the others left; the holder keeps it
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=30)


def test_the_last_user_to_exit_stops_the_server_and_a_restart_keeps_the_data(demo_stack):
    demo_stack.manage("migrate", "--noinput")
    demo_stack.manage("shell", "-c",
                      "from annotator.models import Project; Project.objects.create(name='kept', task_type='binary')")
    assert running(demo_stack.pgdata) is None
    assert _users(demo_stack) == []
    names = demo_stack.shell(
        "import json; from annotator.models import Project; "
        "print(json.dumps(list(Project.objects.values_list('name', flat=True))))"
    )
    assert names == ["kept"]


def test_a_user_killed_without_cleanup_does_not_keep_the_server_forever(demo_stack):
    demo_stack.manage("migrate", "--noinput")
    holder = _holder(demo_stack)
    holder.send_signal(signal.SIGKILL)  # no atexit: its entry stays behind
    holder.wait(timeout=10)
    assert holder.pid in _users(demo_stack)
    started = time.monotonic()
    demo_stack.manage("shell", "-c", "from django.db import connection; connection.ensure_connection()")
    assert running(demo_stack.pgdata) is None  # the dead entry was pruned, the last user left
    assert _users(demo_stack) == []
    assert time.monotonic() - started < 60
