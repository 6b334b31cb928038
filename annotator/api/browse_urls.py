"""REST routes of the data browser (each with and without its trailing slash)."""
from __future__ import annotations

from annotator.api import browse_views as v
from annotator.api.routes import both

P = "projects/<int:project_id>/"

urlpatterns = [
    *both(P + "browse", v.browse_examples, "api-browse"),
    *both(P + "examples/bulk", v.bulk_examples, "api-examples-bulk"),
]
