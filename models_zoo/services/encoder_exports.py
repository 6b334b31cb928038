"""ONNX encoder exports in the shared storage (issue 21).

The encoder engine (`models_zoo/backends/_onnx_encoder.py`, no Django) asks `export_location()`
at each use where to keep exports and whether another host may already have published one:
- a local store: exports live in the store itself, `<store>/encoders/<name>-<digest>/` (or
  `VIGIA_ENCODER_CACHE_DIR` when set); nothing else to share;
- an S3 store: this host keeps its copies in `VIGIA_ENCODER_CACHE_DIR` (default
  `$VIGIA_CACHE_DIR/encoders`); the first host to need an export makes it and publishes it under
  `encoders/<name>-<digest>/` (files, then the manifest); the others copy that, checking every
  file against the manifest's sha256, instead of exporting again.
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings

from config.storage import MANIFEST, Storage, get_storage
from models_zoo.backends import _onnx_encoder

PREFIX = "encoders"


class StorageExports:
    """`SharedExports` of the encoder engine over the shared storage."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def fetch(self, name: str, target: Path) -> bool:
        key = f"{PREFIX}/{name}"
        if not self.storage.exists(f"{key}/{MANIFEST}"):
            return False
        self.storage.copy_dir_into(key, target)
        return True

    def publish(self, name: str, source: Path) -> None:
        key = f"{PREFIX}/{name}"
        if not self.storage.exists(f"{key}/{MANIFEST}"):  # another host got there first
            self.storage.put_dir(source, key)


def export_location() -> tuple[Path | None, StorageExports | None]:
    """(this host's export directory, the shared exports or None) for the current settings."""
    storage = get_storage()
    configured = getattr(settings, "VIGIA_ENCODER_CACHE_DIR", None)
    if storage.is_local:
        return (Path(configured) if configured else Path(storage.root) / PREFIX), None
    cache = Path(configured) if configured else Path(settings.VIGIA_CACHE_DIR) / PREFIX
    return cache, StorageExports(storage)


def install() -> None:
    """Called from ModelsZooConfig.ready(): hand the engine its location."""
    _onnx_encoder.configure(export_location)
