"""Embedding store pages (project admins), mounted under "/" by annotator.web.urls."""
from __future__ import annotations

from django.urls import path

from annotator.web import embedding_views as v

P = "projects/<int:project_id>/"

urlpatterns = [
    path(P + "embeddings/", v.embeddings_page, name="embeddings"),
    path(P + "embeddings/sets/", v.embedding_sets_partial, name="embedding-sets"),
    path(P + "embeddings/compute/", v.embeddings_compute, name="embeddings-compute"),
    path(P + "examples/<int:example_id>/", v.example_page, name="example"),
]
