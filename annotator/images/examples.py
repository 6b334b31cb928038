"""One example's image: an upload checked and stored (REST `POST /examples/`), and stored
files removed when their examples go (one example, a bulk delete, a whole project)."""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import transaction

from annotator.images.checks import ImageInfo, ImageRefused, check_image
from annotator.images.thumbnails import thumbnail_key
from annotator.images.uploads import TransactionUploads
from annotator.media import example_image_name
from annotator.normalize import content_hash
from config.storage import ObjectMissing, get_storage, sha256_file

logger = logging.getLogger(__name__)


def image_content_hash(text_key: str, sha256: str) -> str:
    """The dedupe key of an example with an image: its text (normalized, or raw when that is
    empty, or "" for an image-only example) together with the image's sha256. The same text
    with another image is another example; the same text and image is a duplicate."""
    return content_hash(f"{text_key}\n\x00image:{sha256}")


def stored_image_sha256(name: str) -> str:
    """The sha256 of a stored image (for the dedupe key when its example's text changes). An
    image whose object is gone from the store (deleted by hand, a store restored from an older
    backup) stands in by its stored name, which is random and unique to it, so editing the
    example's text still works instead of failing on the missing file."""
    try:
        return sha256_file(get_storage().get_file(name))
    except ObjectMissing:
        logger.warning("stored image %s is missing from the store; its name stands in", name)
        return hashlib.sha256(f"missing-image:{name}".encode()).hexdigest()


def read_upload(upload: Any) -> tuple[bytes, ImageInfo]:
    """The bytes of an uploaded image and its checks; ImageRefused naming the file and reason."""
    limit = int(settings.VIGIA_MAX_IMAGE_BYTES)
    name = getattr(upload, "name", "") or "image"
    if (getattr(upload, "size", 0) or 0) > limit:
        raise ImageRefused(f"file {name!r}: the image has {upload.size} bytes, more than "
                           f"VIGIA_MAX_IMAGE_BYTES={limit}")
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    try:
        return data, check_image(data)
    except ImageRefused as exc:
        raise ImageRefused(f"file {name!r}: {exc}") from None


def store_new_image(uploads: TransactionUploads, project_id: int, data: bytes, info: ImageInfo) -> str:
    """Store `data` under a fresh random key of the project, through the `atomic_uploads()`
    block that writes the row (removed again if it does not commit); returns the key."""
    key = example_image_name(SimpleNamespace(project_id=project_id), f"x.{info.extension}")
    uploads.put_bytes(data, key)
    return key


def delete_image_files(names: Iterable[str]) -> None:
    """Remove stored images (and their thumbnails) now; a missing one is fine."""
    storage = get_storage()
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
            storage.delete(thumbnail_key(name))
        except Exception:
            logger.exception("removing image %s", name)


def delete_images_on_commit(names: Iterable[str]) -> None:
    """Remove these images once the transaction that deletes their rows commits."""
    names = [n for n in names if n]
    if names:
        transaction.on_commit(lambda: delete_image_files(names))


def delete_project_images_on_commit(project_id: int) -> None:
    def remove() -> None:
        storage = get_storage()
        for prefix in (f"examples/{project_id}", f"thumbnails/examples/{project_id}"):
            try:
                storage.delete_prefix(prefix)
            except Exception:
                logger.exception("removing the images of project %s", project_id)

    transaction.on_commit(remove)
