"""What a request does when a dependency fails under it: the database or the task queue.

- **Reads run again.** A GET or HEAD whose database connection was dropped mid-request (the
  server restarted, failed over, or `pg_terminate_backend` ended the backend: psycopg raises
  OperationalError, then InterfaceError on the closed connection) is run again on a new
  connection: once, and once more if that retry's own new connection is dropped too
  (`VIGIA_DB_READ_RETRIES`, default 2). Reads have no side effects, so running one again is safe.
  Django's `conn_health_checks` only replaces a connection found dead at the start of a request.
- **Other requests answer 503** when the database is gone (the transaction was rolled back, so
  nothing was stored), never a 500, and so does anything that needed the task queue
  (`config.enqueue.BrokerUnavailable`): JSON `{"detail"}` under `/api/`, a page elsewhere.
- **Side effects after a commit** (`after_commit`) run once the write is stored and can never
  turn it into an error: a failure is logged with its traceback, and a dead connection is
  closed so the rest of the request reconnects.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

from config.enqueue import BrokerUnavailable
from config.query_guard import wants_json

logger = logging.getLogger(__name__)

# What a dropped connection raises: psycopg's AdminShutdown and "server closed the connection"
# are OperationalError, a query on the closed connection afterwards InterfaceError.
CONNECTION_ERRORS = (OperationalError, InterfaceError)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})
DATABASE_UNAVAILABLE = "the database is unavailable; nothing was stored, try again in a moment"


def reset_connections() -> None:
    """Drop every database connection outside a transaction, so the next query reconnects."""
    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:
            continue  # a caller's transaction (a test's) owns it; it is rolled back as a whole
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - closing a dead socket may complain; it is gone anyway
            conn.connection = None


def broker_message(exc: BrokerUnavailable) -> str:
    """The 503's message: what was refused, and that nothing started."""
    return f"{str(exc).rstrip('.')}. Nothing was started; try again when it is back."


def after_commit(func: Callable[[], Any], what: str) -> None:
    """Run `func` once the current transaction commits (at once outside one). A failure is
    logged (with `what` and the traceback) and never reaches the caller: the write it follows
    is stored, and its answer must say so."""

    def run() -> None:
        try:
            func()
        except Exception as exc:  # noqa: BLE001 - a side effect must never undo a stored write's answer
            logger.exception("%s failed after the commit (the write itself is stored)", what)
            if isinstance(exc, CONNECTION_ERRORS):
                reset_connections()  # the rest of the request reconnects instead of failing

    transaction.on_commit(run)


def unavailable_response(request: HttpRequest, message: str, *, plain: bool = False) -> HttpResponse:
    """503 with `message`: `{"detail"}` for the API, a page (without the database when `plain`)
    for the browser. Retry-After asks clients to come back shortly."""
    if wants_json(request):
        response: HttpResponse = JsonResponse({"detail": message}, status=503)
    else:
        template = "503_plain.html" if plain else "503.html"
        context = {"message": message} if plain else {"message": message, "request": request}
        body = loader.render_to_string(template, context, request=None if plain else request)
        response = HttpResponse(body, status=503)
    response["Retry-After"] = "5"
    return response


class DependencyFailureMiddleware:
    """Retries a read once on a dropped connection; answers 503 for a dead database or task
    queue (see the module docstring). Sits in `process_exception`, which Django calls for
    exceptions from the view and from rendering its template response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, BrokerUnavailable):
            return unavailable_response(request, broker_message(exception))
        if not isinstance(exception, CONNECTION_ERRORS):
            return None
        reset_connections()
        if request.method in IDEMPOTENT_METHODS and not getattr(request, "_vigia_db_retried", False):
            request._vigia_db_retried = True  # type: ignore[attr-defined]
            retries = max(0, int(getattr(settings, "VIGIA_DB_READ_RETRIES", 2)))
            for attempt in range(1, retries + 1):
                logger.warning("%s %s: database connection lost (%s); running it again (%d of %d)",
                               request.method, request.path, exception, attempt, retries)
                try:
                    return self._run_view_again(request)
                except CONNECTION_ERRORS as again:
                    exception = again
                    reset_connections()
            logger.error("%s %s: database still unavailable: %s", request.method, request.path, exception)
        else:
            logger.error("%s %s: database connection lost: %s", request.method, request.path, exception)
        return unavailable_response(request, DATABASE_UNAVAILABLE, plain=True)

    @staticmethod
    def _run_view_again(request: HttpRequest) -> HttpResponse:
        match = request.resolver_match
        if match is None:
            raise OperationalError("no view to run again")
        # DRF caches the authenticated user on its own Request wrapper, made anew per call;
        # Django's lazy request.user is only cached once it loaded, so both reload here.
        response = match.func(request, *match.args, **match.kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        return response
