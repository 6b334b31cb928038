"""W3C `Server-Timing` on the prediction API, and a liveness endpoint.

A response that a view marks for timing (it sets a `Server-Timing` header, as the predict view
does with `model;dur=`) leaves with the whole split, all in milliseconds:

    Server-Timing: model;dur=9.8, serialize;dur=0.1, db;dur=1.2;desc="4 queries", app;dur=12.9

- `model`: the model forward (backend.predict on the inference thread), set by the view;
- `serialize`: rendering the JSON body (`TimedJSONRenderer`);
- `db`: time in database queries during the request, and how many (a cursor execute wrapper);
- `app`: everything inside Django, from the first middleware in to the response out.

Whatever the client measures beyond `app` is HTTP and the WSGI server (gunicorn). Browsers show
these figures in the network panel; `bench/predict_latency.py` reads them. Other responses are
left alone (the database timer runs for every request but costs one closure per query).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.renderers import JSONRenderer

HEADER = "Server-Timing"


def add_metric(response: Any, name: str, seconds: float, desc: str | None = None) -> None:
    """Append `name;dur=<ms>` (and an optional description) to the response's Server-Timing."""
    entry = f"{name};dur={seconds * 1000:.2f}"
    if desc:
        entry += f';desc="{desc}"'
    existing = response.get(HEADER) if hasattr(response, "get") else None
    response[HEADER] = f"{existing}, {entry}" if existing else entry


class _QueryTimer:
    __slots__ = ("count", "seconds")

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


class ServerTimingMiddleware:
    """Outermost middleware: adds `db` and `app` to responses that carry a Server-Timing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        timer = _QueryTimer()
        connection = connections["default"]
        with connection.execute_wrapper(timer):
            response = self.get_response(request)
        if response.has_header(HEADER):
            add_metric(response, "db", timer.seconds, f"{timer.count} queries")
            add_metric(response, "app", time.perf_counter() - started)
        return response


class TimedJSONRenderer(JSONRenderer):
    """JSONRenderer that reports its own time as `serialize` in the response's Server-Timing."""

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: dict[str, Any] | None = None) -> bytes:
        started = time.perf_counter()
        body = super().render(data, accepted_media_type, renderer_context)
        response = (renderer_context or {}).get("response")
        if response is not None and response.has_header(HEADER):
            add_metric(response, "serialize", time.perf_counter() - started)
        return body


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the process answers (no database, no model, no auth).

    Also the framework floor in bench/predict_latency.py: gunicorn + the middleware stack."""
    return JsonResponse({"status": "ok"})
