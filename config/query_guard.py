"""One guard for what arrives in the URL, for pages and REST alike.

`InputGuardMiddleware` refuses, before any view runs, a query string whose parameter names or
values hold a NUL or a lone surrogate (PostgreSQL cannot store or compare them: `q=a%00b` used to
be a 500 in the browse filter): a 400 naming the parameter. Numbers in query parameters go
through `config.inputs.parse_int` / `parse_float` in every view, which refuse NaN, infinity and
out-of-range values with `InvalidInput`; when a view lets that propagate, this middleware answers
the same 400 (REST views get it from `config.api_errors`). So `k=nan` and `score_min=inf` are
400s naming `k` and `score_min`, never a 500 or an answer that cannot be rendered as JSON.
"""
from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from config.inputs import InvalidInput
from config.text_safety import find_unsafe


def wants_json(request: HttpRequest) -> bool:
    """REST paths, and clients that ask for JSON, get JSON errors; browsers get a page."""
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def bad_input_response(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
    """400 naming the field: `{field: [message]}` for the API, a page for the browser."""
    if wants_json(request):
        return JsonResponse(exc.as_dict(), status=400)
    return render(request, "400.html", {"field": exc.field, "message": exc.message}, status=400)


def query_problem(request: HttpRequest) -> InvalidInput | None:
    """The first query parameter (name or value) holding a character that cannot be stored."""
    for key, values in request.GET.lists():
        for value in (key, *values):
            found = find_unsafe(value)
            if found is not None:
                return InvalidInput(key or "query string", found[1])
    return None


class InputGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = query_problem(request)
        if problem is not None:
            return bad_input_response(request, problem)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, InvalidInput):
            return bad_input_response(request, exception)
        return None
