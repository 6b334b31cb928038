"""REST (and browser) access to example images: members of the example's project only.

The page's <img> and REST clients (token auth) use the same URL; outsiders get 404, so neither
the project nor the image is disclosed. The file is read through `annotator.media.open_media`.
"""
from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from annotator.images.thumbnails import thumbnail_path
from annotator.media import IMAGE_TYPES, media_type, open_media
from annotator.models import Example
from annotator.permissions import get_project_for


class _AnyAccept(DefaultContentNegotiation):
    """A browser's `Accept: image/webp,*/*` must not make DRF answer 406: the body is a file."""

    def select_renderer(self, request: Any, renderers: list, format_suffix: str | None = None):
        return renderers[0], renderers[0].media_type


class ExampleImage(APIView):
    content_negotiation_class = _AnyAccept

    @extend_schema(
        tags=["examples"],
        summary="The example's image (members of its project)",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The image file"),
            404: OpenApiResponse(description="No such project or example, not a member, or no image"),
        },
    )
    def get(self, request: Request, project_id: int, example_id: int) -> FileResponse:
        name = _image_name(request, project_id, example_id)
        try:
            handle = open_media(name)
        except OSError:
            raise Http404("The image file is missing.") from None
        content_type = media_type(name)
        response = FileResponse(handle, content_type=content_type)
        response["Content-Disposition"] = "inline" if content_type in IMAGE_TYPES else "attachment"
        response["Cache-Control"] = "private, max-age=3600"
        return response


def _image_name(request: Request, project_id: int, example_id: int) -> str:
    """The stored name of the example's image; 404 for outsiders and examples without one."""
    project = get_project_for(request.user, project_id)
    example = Example.objects.filter(project=project, pk=example_id).exclude(image="").first()
    if example is None:
        raise Http404("No image for this example.")
    return example.image.name


class ExampleThumbnail(APIView):
    """A JPEG at most 256 px on its longer side, made once and kept in the shared store
    (annotator/images/thumbnails.py); the same members-only rule as the image."""

    content_negotiation_class = _AnyAccept

    @extend_schema(
        tags=["examples"],
        summary="A thumbnail of the example's image (members of its project)",
        responses={
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="A JPEG thumbnail"),
            404: OpenApiResponse(description="No such project or example, not a member, or no image"),
        },
    )
    def get(self, request: Request, project_id: int, example_id: int) -> FileResponse:
        name = _image_name(request, project_id, example_id)
        try:
            path = thumbnail_path(name)
        except OSError:
            raise Http404("The image file is missing.") from None
        response = FileResponse(open(path, "rb"), content_type="image/jpeg")  # noqa: SIM115
        response["Content-Disposition"] = "inline"
        response["Cache-Control"] = "private, max-age=86400"
        return response
