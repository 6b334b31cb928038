"""Thumbnails: made once per image and kept in the shared store beside it (so every host
serves the same one; from S3 each host keeps its cached copy under VIGIA_CACHE_DIR).

`thumbnails/<image key without extension>-<size>.jpg`, e.g.
`thumbnails/examples/3/Xy..Q-256.jpg`: a JPEG at most `THUMBNAIL_SIZE` pixels on its longer
side. They are served by `annotator.api.media_views.ExampleThumbnail`, members only, as the
image itself is; deleting an example's image deletes its thumbnail too.
"""
from __future__ import annotations

import base64
import io
from pathlib import Path

from annotator.images.storage import read_image
from config.storage import get_storage

THUMBNAIL_SIZE = 256


def make_thumbnail(data: bytes, size: int = THUMBNAIL_SIZE) -> bytes:
    """A JPEG of `data` at most `size` pixels on its longer side (alpha flattened on white)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale
        image.thumbnail((size, size))
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            flat = Image.new("RGB", image.size, (255, 255, 255))
            flat.paste(image, mask=image.getchannel("A"))
            image = flat
        elif image.mode != "RGB":
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
    return out.getvalue()


def thumbnail_key(name: str, size: int = THUMBNAIL_SIZE) -> str:
    stem = name.rsplit(".", 1)[0] if "." in name.rsplit("/", 1)[-1] else name
    return f"thumbnails/{stem}-{size}.jpg"


def thumbnail_path(name: str, size: int = THUMBNAIL_SIZE) -> Path:
    """A local path to the thumbnail of image `name`, made (and stored) the first time."""
    storage = get_storage()
    key = thumbnail_key(name, size)
    try:
        return storage.get_file(key)
    except FileNotFoundError:
        pass
    storage.put_bytes(make_thumbnail(read_image(name), size), key)
    return storage.get_file(key)


def delete_thumbnails(name: str) -> None:
    get_storage().delete(thumbnail_key(name))


def data_uri(data: bytes, size: int = 96) -> str:
    """A small inline thumbnail (the import preview shows files not stored yet)."""
    return "data:image/jpeg;base64," + base64.b64encode(make_thumbnail(data, size)).decode()
