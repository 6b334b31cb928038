"""The import preview's images: checked as the import checks them, shown as small inline
thumbnails, never stored."""
from __future__ import annotations

from annotator.images.archive import ImageArchive
from annotator.images.checks import ImageRefused, check_image
from annotator.images.staging import StagedImage, decode_base64
from annotator.images.thumbnails import data_uri


class PreviewImages:
    """The `images` loader of a RowBuilder in the preview: `last` is the thumbnail (a data URI)
    of the row just built ("" when it has no image)."""

    def __init__(self, archive: ImageArchive | None = None) -> None:
        self.archive = archive
        self.last = ""

    def load(self, value: object) -> StagedImage | None:
        self.last = ""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise ImageRefused(f"the image must be {'a file name' if self.archive else 'base64 text'}, "
                               f"not {type(value).__name__}")
        value = value.strip()
        if self.archive is not None:
            try:
                data = self.archive.read(value)
                info = check_image(data)
            except ImageRefused as exc:
                raise ImageRefused(f"file {value!r}: {exc}") from None
        else:
            data = decode_base64(value)
            info = check_image(data)
        self.last = data_uri(data)
        return StagedImage("", info, value if self.archive else "base64")
