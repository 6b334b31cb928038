"""`Example.image` in the shared store (`config.storage`, VIGIA_STORAGE_URL): a path or an S3
bucket, so a web server, a worker and a trainer on other hosts read the same image.

Names are storage keys (`examples/<project>/<random token>.<ext>`, see annotator/media.py). A
local store reads the object in place; from S3 a host reads its cached copy (images are never
rewritten under a name: a new image gets a new random name). There are no public URLs: images
are served by `annotator.api.media_views` to the project's members only.
"""
from __future__ import annotations

from typing import IO, Any

from django.core.files import File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

from annotator.images.uploads import current_uploads
from config.storage import ObjectMissing, get_storage


@deconstructible
class SharedImageStorage(Storage):
    """Django's Storage API over `config.storage.get_storage()` (resolved on each call, so
    settings changes apply)."""

    def _open(self, name: str, mode: str = "rb") -> File:
        try:
            path = get_storage().get_file(name)
        except ObjectMissing as exc:
            raise FileNotFoundError(str(exc)) from None
        return File(open(path, "rb"), name=name)  # noqa: SIM115 - the caller closes it

    def _save(self, name: str, content: Any) -> str:
        if hasattr(content, "seek"):
            content.seek(0)
        data = content.read()
        data = data if isinstance(data, bytes) else data.encode()
        uploads = current_uploads()
        if uploads is not None:  # inside atomic_uploads(): removed again if it does not commit
            uploads.put_bytes(data, name)
        else:
            get_storage().put_bytes(data, name)
        return name

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name  # random 128-bit names (annotator.media.example_image_name) never clash

    def delete(self, name: str) -> None:
        if name:
            get_storage().delete(name)

    def exists(self, name: str) -> bool:
        return get_storage().exists(name)

    def size(self, name: str) -> int:
        return get_storage().get_file(name).stat().st_size

    def url(self, name: str | None) -> str:
        raise NotImplementedError("example images have no public URL; use annotator.media.example_image_url")


def image_storage() -> SharedImageStorage:
    """The storage of Example.image (a callable, so migrations do not pin a location)."""
    return SharedImageStorage()


def read_image(key: str) -> bytes:
    with image_storage().open(key) as handle:
        return handle.read()


def open_image(key: str) -> IO[bytes]:
    return image_storage().open(key)
