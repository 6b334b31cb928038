"""Example images: where they are stored, and the one function that reads them.

- A stored name cannot be guessed: `examples/<project id>/<random token>.<ext>`, the token from
  `secrets` (128 bits); the uploaded file name is not kept in it. (They used to be
  `examples/YYYY/MM/<original name>`, served to any signed-in user under `/media/`.)
- Images are served only through `GET /api/v1/projects/{id}/examples/{eid}/image`
  (`annotator.api.media_views`), which checks that the caller is a member of the example's
  project (outsiders get 404), never as static files.
- Every read goes through `open_media(name)` / `read_media(name)`: training, prediction and the
  view. Images live in the shared store (`VIGIA_STORAGE_URL`, a path or s3://, through
  `annotator.images.storage`), where artifacts live, so every host reads the same image.
"""
from __future__ import annotations

import mimetypes
import re
import secrets
from typing import IO, Any

from annotator.images.storage import image_storage

_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,8})$")
# Served inline only as these types; anything else is an attachment (never HTML or SVG inline).
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff"})


def example_image_name(instance: Any, filename: str) -> str:
    """`upload_to` of Example.image: `examples/<project id>/<random token>.<ext>`."""
    match = _EXTENSION.search(filename or "")
    extension = f".{match.group(1).lower()}" if match else ""
    return f"examples/{instance.project_id}/{secrets.token_urlsafe(16)}{extension}"


def example_image_url(example: Any) -> str:
    """The URL that serves `example`'s image to members of its project."""
    from django.urls import reverse

    return reverse("api-example-image", args=[example.project_id, example.pk])


def open_media(name: str) -> IO[bytes]:
    """Open a stored media file for reading (the caller closes it)."""
    return image_storage().open(name, "rb")


def read_media(name: str) -> bytes:
    """The bytes of a stored media file."""
    with open_media(name) as handle:
        return handle.read()


def media_type(name: str) -> str:
    """The Content-Type to serve `name` with: its image type, else a download."""
    guessed, _ = mimetypes.guess_type(name)
    return guessed if guessed in IMAGE_TYPES else "application/octet-stream"
