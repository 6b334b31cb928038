"""Django's PostgreSQL backend on the embedded server (`ENGINE = "config.embedded_db"`).

The same backend as a `postgres://` DATABASE_URL gets, except that each new connection first
makes sure the embedded server on `PGDATA` runs (starting it if needed) and connects to its
Unix socket. Nothing starts until a process actually needs the database.
"""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from django.db.backends.postgresql import base, client

from config.embedded_db import ensure_running, psql_path


def _point_at_server(settings_dict: dict[str, Any]) -> None:
    endpoint = ensure_running(Path(settings_dict["PGDATA"]))
    settings_dict["HOST"] = str(endpoint.socket_dir)
    settings_dict["PORT"] = str(endpoint.port)


class DatabaseClient(client.DatabaseClient):
    """`manage.py dbshell` with the bundled psql."""

    def runshell(self, parameters: list[str]) -> None:
        _point_at_server(self.connection.settings_dict)
        args, env = self.settings_to_cmd_args_env(self.connection.settings_dict, parameters)
        args[0] = str(psql_path())
        sigint_handler = signal.getsignal(signal.SIGINT)
        try:
            # Let SIGINT reach psql (it aborts the query), as Django's own client does.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            subprocess.run(args, env={**os.environ, **(env or {})}, check=True)
        finally:
            signal.signal(signal.SIGINT, sigint_handler)


class DatabaseWrapper(base.DatabaseWrapper):
    client_class = DatabaseClient

    def get_connection_params(self) -> dict[str, Any]:
        _point_at_server(self.settings_dict)
        return super().get_connection_params()
