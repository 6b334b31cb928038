"""A ZIP import: one manifest (CSV or JSONL) naming images inside the same archive.

Read safely before a row is imported: every entry's name is a relative path without `..` or a
drive, no entry is a symbolic link or encrypted, the total uncompressed size is at most
VIGIA_MAX_ARCHIVE_BYTES (sizes come from the central directory, and zipfile never reads past
an entry's declared size, so a lying header cannot inflate past the cap either), and one image
is at most VIGIA_MAX_IMAGE_BYTES before it is read.

The manifest is `manifest.csv` or `manifest.jsonl` at the top, else the one `.csv` / `.jsonl`
file at the top; image names in it are paths inside the archive (`images/a.png`, `./a.png`).
"""
from __future__ import annotations

import os
import posixpath
import stat
import zipfile
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from annotator.images.checks import ImageRefused
from annotator.importers.errors import ImportFailed

MANIFEST_FORMATS = {".csv": "csv", ".jsonl": "jsonl"}


def _unsafe_name(name: str) -> str | None:
    """Why an entry name is unsafe, or None."""
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    if any(part == ".." for part in name.split("/")):
        return "a path that climbs out of the archive ('..')"
    if "\x00" in name:
        return "a NUL character in its name"
    return None


class ImageArchive:
    """An opened, checked archive; ImportFailed (line None) when it is not a safe one."""

    def __init__(self, source: str | Path | IO[bytes] | Any) -> None:
        own = isinstance(source, (str, Path, os.PathLike))
        try:
            if not own and hasattr(source, "seek"):
                source.seek(0)
            self.zip = zipfile.ZipFile(source if own else getattr(source, "file", source))
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ImportFailed.single(f"not a ZIP archive ({exc})") from None
        try:
            self._check()
        except BaseException:
            self.zip.close()
            raise

    def _check(self) -> None:
        cap = int(settings.VIGIA_MAX_ARCHIVE_BYTES)
        total = 0
        self.entries: dict[str, zipfile.ZipInfo] = {}
        for info in self.zip.infolist():
            name = info.filename
            why = _unsafe_name(name)
            if why is not None:
                raise ImportFailed.single(f"archive entry {name!r} is refused: {why}")
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise ImportFailed.single(f"archive entry {name!r} is refused: a symbolic link")
            if info.flag_bits & 0x1:
                raise ImportFailed.single(f"archive entry {name!r} is refused: it is encrypted")
            total += info.file_size
            if total > cap:
                raise ImportFailed.single(
                    f"the archive unpacks to more than VIGIA_MAX_ARCHIVE_BYTES={cap} bytes "
                    f"(reached at entry {name!r}); split it into smaller archives")
            if info.is_dir():
                continue
            normal = posixpath.normpath(name)
            if normal in self.entries:
                raise ImportFailed.single(f"archive entry {name!r} appears twice")
            self.entries[normal] = info
        self.manifest_name, self.manifest_format = self._find_manifest()

    def _find_manifest(self) -> tuple[str, str]:
        for name in ("manifest.csv", "manifest.jsonl"):
            if name in self.entries:
                return name, MANIFEST_FORMATS[posixpath.splitext(name)[1]]
        top = [n for n in self.entries if "/" not in n and posixpath.splitext(n)[1].lower() in MANIFEST_FORMATS]
        if len(top) == 1:
            return top[0], MANIFEST_FORMATS[posixpath.splitext(top[0])[1].lower()]
        if not top:
            raise ImportFailed.single("the archive holds no manifest: put manifest.csv or manifest.jsonl "
                                      "(with an 'image' column naming files in the archive) at its top")
        raise ImportFailed.single(f"the archive holds several manifests ({', '.join(sorted(top))}); "
                                  "name the one to import manifest.csv or manifest.jsonl")

    def open_manifest(self) -> IO[bytes]:
        return self.zip.open(self.entries[self.manifest_name])

    def read(self, name: str) -> bytes:
        """The bytes of the image `name`; ImageRefused when there is none or it is too large."""
        why = _unsafe_name(name)
        if why is not None:
            raise ImageRefused(f"refused: {why}")
        info = self.entries.get(posixpath.normpath(name))
        if info is None:
            raise ImageRefused("no such file in the archive")
        limit = int(settings.VIGIA_MAX_IMAGE_BYTES)
        if info.file_size > limit:
            raise ImageRefused(f"the image has {info.file_size} bytes, more than VIGIA_MAX_IMAGE_BYTES={limit}")
        try:
            with self.zip.open(info) as handle:
                return handle.read(limit + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
            raise ImageRefused(f"the archive entry cannot be read ({exc})") from None

    def close(self) -> None:
        self.zip.close()
