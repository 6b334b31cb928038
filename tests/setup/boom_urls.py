"""The real URLconf plus one view that fails, to see what a user gets on a server error."""
from __future__ import annotations

from django.urls import path

from config.urls import urlpatterns as real_patterns


def boom(request):
    raise RuntimeError("boom: a bug in a view")


urlpatterns = [path("boom/", boom), *real_patterns]
