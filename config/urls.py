"""URL map: each app owns its own URL modules; this file only mounts them."""
from __future__ import annotations

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("annotator.api.urls")),
    path("api/v1/", include("models_zoo.api.urls")),
    path("models/", include("models_zoo.web.urls")),
    path("", include("annotator.web.urls")),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
