"""URL map: each app owns its own URL modules; this file only mounts them."""
from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.server_timing import healthz

# A refused page (403) is styled like 404.html and 500.html and says which role it needs.
handler403 = "annotator.web.error_views.permission_denied"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/v1/docs/",
        SpectacularSwaggerView.as_view(url_name="schema"),
        name="api-docs",
    ),
    path("api/v1/", include("annotator.api.urls")),
    path("api/v1/", include("models_zoo.api.urls")),
    path("api/v1/", include("integrations.api.urls")),
    path("models/", include("models_zoo.web.urls")),
    path("", include("integrations.web.urls")),
    # No /media/ route: example images are served to members of their project only, by
    # GET /api/v1/projects/{id}/examples/{eid}/image (annotator/media.py).
    path("", include("models_zoo.web.loop_urls")),
    path("", include("annotator.web.urls")),
]
