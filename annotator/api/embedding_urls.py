"""REST routes of the embedding store and similarity search (mounted under /api/v1/)."""
from __future__ import annotations

from annotator.api import embedding_views as views
from annotator.api.project_urls import both

P = "projects/<int:project_id>/"

urlpatterns = [
    *both(P + "embeddings", views.EmbeddingSetsView, "api-embeddings"),
    *both(P + "examples/<int:example_id>/similar", views.SimilarExamplesView, "api-example-similar"),
    *both(P + "search", views.SemanticSearchView, "api-semantic-search"),
]
