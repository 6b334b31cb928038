"""Storage keys, URLs, checksums and errors (see config/storage/__init__.py)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

MANIFEST = ".vigia-manifest.json"


class StorageError(RuntimeError):
    """The store refused or lost something; the message names the key and the store."""


class ObjectMissing(StorageError, FileNotFoundError):
    """No object (or directory manifest) under this key."""


class ChecksumMismatch(StorageError):
    """The stored object's checksum is not the one its row recorded."""


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_key(key: str) -> str:
    """`key` if it is a relative key (no empty, `.` or `..` part, no leading dot directory);
    ValueError naming it otherwise. Keys never escape the store's root."""
    if not isinstance(key, str) or not key or key.startswith(("/", "\\")) or "\\" in key:
        raise ValueError(f"storage key {key!r} must be a relative path like 'embeddings/3/5/x.npy'")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts) or parts[0].startswith("."):
        raise ValueError(f"storage key {key!r} has an empty, '.' or '..' part or starts with a dot")
    return key


def parse_storage_url(url: str) -> tuple[str, str]:
    """('file', absolute path) or ('s3', 'bucket/prefix'); ValueError with the accepted forms."""
    text = str(url).strip()
    if "://" not in text:
        if not text:
            raise ValueError("VIGIA_STORAGE_URL is empty: give a path or s3://bucket/prefix")
        return "file", str(Path(text).expanduser().resolve())
    scheme, rest = text.split("://", 1)
    scheme = scheme.lower()
    if scheme == "file":
        return "file", str(Path(rest).expanduser().resolve())
    if scheme in ("s3", "s3a"):
        root = rest.strip("/")
        if not root:
            raise ValueError(f"VIGIA_STORAGE_URL {url!r} names no bucket: use s3://bucket/prefix")
        return "s3", root
    raise ValueError(f"VIGIA_STORAGE_URL {url!r}: the scheme must be a path, file:// or s3:// "
                     f"(any S3 API: AWS, MinIO, Ceph RGW)")


def directory_manifest(directory: Path) -> bytes:
    """The manifest of a local directory: every file's relative path, size and sha256, as
    canonical JSON bytes (its sha256 is the directory's checksum)."""
    files = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        if rel == MANIFEST:
            continue
        files[rel] = {"size": path.stat().st_size, "sha256": sha256_file(path)}
    return json.dumps({"format": 1, "files": files}, sort_keys=True).encode()
