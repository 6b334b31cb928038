"""Routes for function views (`@api_view`), each with and without its trailing slash."""
from __future__ import annotations

from django.urls import path


def both(route: str, view, name: str) -> list:
    """`route` (documented) and its slash twin (accepted, left out of the OpenAPI schema)."""
    twin = route[:-1] if route.endswith("/") else route + "/"
    return [path(route, view, name=name),
            path(twin, view.cls.as_view(schema=None), name=f"{name}-twin")]
