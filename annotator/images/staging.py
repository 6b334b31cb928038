"""The images of one import: checked row by row, spooled on this host, stored only once the
rows are in the database, and only for the rows that were stored (not duplicates). A failed
import stores no image at all: the images are uploaded through the import's
`uploads.atomic_uploads()` block, which deletes them when its transaction does not commit (a
failure while storing, or at COMMIT)."""
from __future__ import annotations

import base64
import binascii
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from annotator.images.archive import ImageArchive
from annotator.images.checks import ImageInfo, ImageRefused, check_image
from annotator.images.uploads import TransactionUploads
from config.storage import get_storage

_DATA_URI = re.compile(r"^data:image/[A-Za-z0-9.+-]+;base64,", re.IGNORECASE)
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s_-]+$")
_IN_CHUNK = 500


def image_reference(value: object, archive: object | None) -> str | None:
    """A row's image cell: None when empty, else the file name inside `archive` (or the base64
    text without one), stripped; ImageRefused when it is not text. Shared by the import and
    its preview, so both read a cell the same way."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ImageRefused(f"the image must be {'a file name' if archive else 'base64 text'}, "
                           f"not {type(value).__name__}")
    return value.strip()


@dataclass(frozen=True)
class StagedImage:
    key: str
    info: ImageInfo
    source: str  # the file name in the archive, or "base64"


class ImageStager:
    """Loads the `image` value of a row: a file name inside `archive`, or base64 (optionally a
    `data:image/...;base64,` URI) when there is no archive."""

    def __init__(self, project_id: int, archive: ImageArchive | None = None) -> None:
        self.project_id = project_id
        self.archive = archive
        self.spool: Path | None = None
        self.staged: dict[str, Path] = {}

    def load(self, value: object) -> StagedImage | None:
        """The staged image of a row, None when the row has none; ImageRefused naming the file
        and the reason otherwise."""
        value = image_reference(value, self.archive)
        if value is None:
            return None
        if self.archive is not None:
            source = value
            try:
                data = self.archive.read(value)
                info = check_image(data)
            except ImageRefused as exc:
                raise ImageRefused(f"file {value!r}: {exc}") from None
        else:
            source = "base64"
            data = decode_base64(value)
            info = check_image(data)
        key = f"examples/{self.project_id}/{secrets.token_urlsafe(16)}.{info.extension}"
        if self.spool is None:
            self.spool = get_storage().scratch_dir()
        path = self.spool / key.rsplit("/", 1)[1]
        path.write_bytes(data)
        self.staged[key] = path
        return StagedImage(key, info, source)

    def store(self, keys: set[str], uploads: TransactionUploads) -> None:
        """Store the staged images whose keys are in `keys` (the rows that were inserted),
        through the import transaction's `uploads` (removed again if it does not commit)."""
        for key, path in self.staged.items():
            if key in keys:
                uploads.put_file(path, key, move=True)

    def close(self) -> None:
        if self.spool is not None:
            shutil.rmtree(self.spool, ignore_errors=True)
            self.spool = None
        self.staged = {}


def decode_base64(value: str) -> bytes:
    text = _DATA_URI.sub("", value, count=1)
    if not _BASE64.match(text):
        raise ImageRefused("the image is neither base64 nor a data:image/...;base64, URI (a file name "
                           "needs format=zip with the file inside the archive)")
    try:
        compact = "".join(text.split())
        if "-" in compact or "_" in compact:
            return base64.urlsafe_b64decode(compact + "=" * (-len(compact) % 4))
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageRefused(f"the image's base64 is invalid ({exc})") from None


def in_chunks(keys: list[str]) -> list[list[str]]:
    return [keys[i:i + _IN_CHUNK] for i in range(0, len(keys), _IN_CHUNK)]
