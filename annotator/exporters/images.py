"""`format=zip`: the project's examples as `manifest.jsonl` (the jsonl export's records, each
with an `image` naming its file, or no `image` key) plus `images/<example id>.<ext>`, streamed.

Importing the archive (`format=zip`) into a project gives back the same examples, images and
primary labels (annotator/images/archive.py reads exactly this layout).

    StreamingHttpResponse(iter_zip(project, for_user=request.user), content_type="application/zip")
"""
from __future__ import annotations

import json
import logging
import zipfile
from collections.abc import Iterator
from typing import Any

from django.db.models import Q

from annotator.exporters import example_record, iter_examples, visible_to
from annotator.images.storage import image_storage
from annotator.media import open_media
from annotator.models import Project

_FLUSH_BYTES = 1 << 20
logger = logging.getLogger(__name__)


class _Sink:
    """A write-only, non-seekable file: zipfile then writes data descriptors, so the archive
    streams out as it is written."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.position = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts, self.size = b"".join(self.parts), [], 0
        return data


def iter_zip(project: Project, *, for_user: Any | None = None, only: Q | None = None) -> Iterator[bytes]:
    """The archive as byte chunks (the annotations `for_user` may see, as the other formats)."""
    sink = _Sink()
    storage = image_storage()
    visible = visible_to(project, for_user)
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
        with archive.open("manifest.jsonl", "w", force_zip64=True) as manifest:
            pending: list[tuple[str, str]] = []
            for example, notes in iter_examples(project, visible, only):
                record = example_record(project, example, notes)
                name = example.image.name
                if name and not storage.exists(name):
                    # A row naming a file the store lost: exported without its image (logged),
                    # rather than an archive that breaks off half-way.
                    logger.warning("export of project %s: example %s names a missing image %s",
                                   project.pk, example.pk, name)
                    name = ""
                if name:
                    record["image"] = f"images/{example.pk}.{name.rsplit('.', 1)[-1] if '.' in name else 'bin'}"
                    pending.append((record["image"], name))
                manifest.write((json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode())
                if sink.size >= _FLUSH_BYTES:
                    yield sink.take()
        for member, name in pending:
            info = zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED  # images are compressed already
            with open_media(name) as source, archive.open(info, "w", force_zip64=True) as target:
                for block in iter(lambda: source.read(1 << 16), b""):
                    target.write(block)
                    if sink.size >= _FLUSH_BYTES:
                        yield sink.take()
            if sink.size >= _FLUSH_BYTES:
                yield sink.take()
    yield sink.take()
