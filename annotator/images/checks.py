"""Pillow checks of one image: format, decodable, at most VIGIA_MAX_IMAGE_PIXELS pixels and
VIGIA_MAX_IMAGE_BYTES bytes."""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings

# Pillow format -> stored extension. Others (SVG is not an image to Pillow; TIFF, ICO, PSD...)
# are refused: they are served inline only as the types annotator.media allows.
FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp", "BMP": "bmp"}


class ImageRefused(ValueError):
    """The image is not accepted; the message is the reason."""


@dataclass(frozen=True)
class ImageInfo:
    sha256: str
    width: int
    height: int
    extension: str
    size: int


def check_image(data: bytes) -> ImageInfo:
    """Check `data` as an example image; ImageRefused with the reason when it is not one."""
    from PIL import Image, UnidentifiedImageError

    max_bytes = int(settings.VIGIA_MAX_IMAGE_BYTES)
    max_pixels = int(settings.VIGIA_MAX_IMAGE_PIXELS)
    if not data:
        raise ImageRefused("the image is empty (0 bytes)")
    if len(data) > max_bytes:
        raise ImageRefused(f"the image has {len(data)} bytes, more than VIGIA_MAX_IMAGE_BYTES={max_bytes}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt = image.format or "?"
                if fmt not in FORMATS:
                    raise ImageRefused(f"format {fmt} is not accepted; use one of {', '.join(FORMATS)}")
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageRefused(f"the image has {width}x{height} = {width * height} pixels, "
                                       f"more than VIGIA_MAX_IMAGE_PIXELS={max_pixels}")
                image.load()  # decodes every pixel: a truncated or corrupt file fails here
    except ImageRefused:
        raise
    except UnidentifiedImageError:
        raise ImageRefused("not an image Pillow can read (unknown or damaged format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused(f"the image is too large to decode safely ({exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRefused(f"the image cannot be decoded ({exc})") from None
    return ImageInfo(hashlib.sha256(data).hexdigest(), width, height, FORMATS[fmt], len(data))
