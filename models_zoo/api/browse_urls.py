"""REST routes of the data browser (each with and without its trailing slash)."""
from __future__ import annotations

from annotator.api.routes import both
from models_zoo.api import browse_views as v

P = "projects/<int:project_id>/"

urlpatterns = [
    *both(P + "browse", v.browse_examples, "api-browse"),
    *both(P + "examples/bulk", v.bulk_examples, "api-examples-bulk"),
]
