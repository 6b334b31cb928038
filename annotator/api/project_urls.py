"""REST routes for projects, labels, members, examples, annotations, /me and tokens.

Every route answers with and without its trailing slash (clients write both; Django's
APPEND_SLASH cannot redirect a POST). The OpenAPI schema lists the contract's spelling
(DESIGN.md "Contract") and hides the other.
"""

from __future__ import annotations

from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.settings import api_settings

from annotator.api import example_views, media_views, views


@extend_schema_view(
    post=extend_schema(tags=["auth"], summary="Obtain a token with username/password")
)
class ObtainToken(ObtainAuthToken):
    # DRF's view names its own parsers (its plain JSONParser among them): use Vigia's, so a
    # hostile body here is a 400 like everywhere else (config/inputs.py).
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES


def both(route: str, view: type, name: str) -> list[URLPattern]:
    """`route` as written (documented) plus its slash twin (accepted, not documented)."""
    twin = route[:-1] if route.endswith("/") else route + "/"
    return [
        path(route, view.as_view(), name=name),
        path(twin, view.as_view(schema=None), name=f"{name}-twin"),
    ]


P = "projects/<int:project_id>/"

urlpatterns = [
    *both("projects/", views.ProjectListCreate, "api-project-list"),
    *both(P, views.ProjectDetail, "api-project-detail"),
    *both(P + "labels/", views.LabelListCreate, "api-label-list"),
    *both(P + "labels/<int:label_id>/", views.LabelDetail, "api-label-detail"),
    *both(P + "members/", views.MemberListCreate, "api-member-list"),
    *both(P + "members/<int:member_id>/", views.MemberDetail, "api-member-detail"),
    *both(P + "examples/", example_views.ExampleListCreate, "api-example-list"),
    *both(P + "examples/<int:example_id>/", example_views.ExampleDetail, "api-example-detail"),
    *both(
        P + "examples/<int:example_id>/annotations",
        example_views.ExampleAnnotations,
        "api-example-annotations",
    ),
    *both(P + "examples/<int:example_id>/image", media_views.ExampleImage, "api-example-image"),
    *both(P + "examples/<int:example_id>/thumbnail", media_views.ExampleThumbnail,
          "api-example-thumbnail"),
    *both("me", views.MeView, "api-me"),
    *both("auth/token", ObtainToken, "api-token"),
]
