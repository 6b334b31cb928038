"""Small helpers for the browser-view tests: logged-in clients and example factories."""
from __future__ import annotations

from django.test import Client

from annotator.models import Example
from annotator.normalize import content_hash


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add_examples(project, texts, **meta) -> list[Example]:
    return [
        Example.objects.create(
            project=project,
            text=t,
            normalized_text=t,
            content_hash=content_hash(f"{project.pk}:{t}"),
            meta=dict(meta),
            # The random strategy hands out the highest queue_key first: keep the given order.
            queue_key=1 - i / 1000,
        )
        for i, t in enumerate(texts)
    ]


HTMX = {"HTTP_HX_REQUEST": "true"}
