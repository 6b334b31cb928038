"""The import preview's images: checked as the import checks them, shown as small inline
thumbnails, never stored."""
from __future__ import annotations

from annotator.images.archive import ImageArchive
from annotator.images.checks import ImageRefused, check_image
from annotator.images.staging import StagedImage, decode_base64, image_reference
from annotator.images.thumbnails import data_uri


class PreviewImages:
    """The `images` loader of a RowBuilder in the preview: `last` is the thumbnail (a data URI)
    of the row just built ("" when it has no image)."""

    def __init__(self, archive: ImageArchive | None = None) -> None:
        self.archive = archive
        self.last = ""

    def load(self, value: object) -> StagedImage | None:
        self.last = ""
        value = image_reference(value, self.archive)
        if value is None:
            return None
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
