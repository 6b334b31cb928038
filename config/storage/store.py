"""The Storage class: one store (a path or an S3 bucket prefix) and this host's cache of it."""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from config.storage.keys import (
    MANIFEST,
    ChecksumMismatch,
    ObjectMissing,
    StorageError,
    check_key,
    directory_manifest,
    parse_storage_url,
    sha256_file,
)

logger = logging.getLogger("config.storage")


class Storage:
    """One store (a local path or an S3 bucket prefix) and this host's cache of it."""

    def __init__(self, url: str, cache_dir: str | Path) -> None:
        self.url = str(url)
        self.scheme, self.root = parse_storage_url(self.url)
        self.is_local = self.scheme == "file"
        self.cache_dir = Path(cache_dir) / "storage"
        if self.is_local:
            import fsspec

            self.fs = fsspec.filesystem("file")
        else:
            import s3fs

            # Endpoint and credentials come from the standard AWS variables (botocore reads
            # AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, the
            # region); the endpoint is passed explicitly so MinIO/Ceph/moto work on any version.
            endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
            # No listings cache: other hosts write under the same prefixes.
            self.fs = s3fs.S3FileSystem(endpoint_url=endpoint or None, use_listings_cache=False,
                                        skip_instance_cache=True)

    def __repr__(self) -> str:
        return f"<Storage {self.url}>"

    # --- paths ------------------------------------------------------------------------------
    def _remote(self, key: str) -> str:
        return f"{self.root}/{check_key(key)}"

    def local_path(self, key: str) -> Path:
        """Where `key` is read on this host: the object itself (local store) or its cached copy."""
        if self.is_local:
            return Path(self._remote(key))
        return self.cache_dir / check_key(key)

    def scratch_dir(self) -> Path:
        """A fresh empty directory on this host for a writer to build objects in; `put_*` with
        `move=True` then moves them into place instead of copying."""
        base = (Path(self.root) / ".scratch") if self.is_local else (self.cache_dir / ".scratch")
        directory = base / uuid.uuid4().hex
        directory.mkdir(parents=True)
        return directory

    def _wrap(self, exc: Exception, key: str, what: str) -> StorageError:
        if isinstance(exc, FileNotFoundError):
            return ObjectMissing(f"{what} {key!r}: not found in {self.url} ({exc})")
        return StorageError(f"{what} {key!r} in {self.url} failed: {type(exc).__name__}: {exc}")

    # --- writing ----------------------------------------------------------------------------
    def put_file(self, local: str | Path, key: str, *, move: bool = False) -> str:
        """Store the local file as `key` (whole: readers see the old object or this one);
        returns its sha256. `move=True` hands the file over (renamed into the store, or into
        this host's cache after the upload) instead of copying it."""
        local = Path(local)
        sha = sha256_file(local)
        if self.is_local:
            target = Path(self._remote(key))
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.parent / f".tmp-{uuid.uuid4().hex}-{target.name}"
            try:
                if move:
                    shutil.move(str(local), tmp)
                else:
                    shutil.copyfile(local, tmp)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            return sha
        try:
            self.fs.put_file(str(local), self._remote(key))
        except Exception as exc:
            raise self._wrap(exc, key, "storing") from exc
        if move:
            self._adopt(local, key, sha)
        return sha

    def put_bytes(self, data: bytes, key: str) -> str:
        """Store small content as `key` in one write; returns its sha256."""
        if self.is_local:
            target = Path(self._remote(key))
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.parent / f".tmp-{uuid.uuid4().hex}-{target.name}"
            try:
                tmp.write_bytes(data)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        else:
            try:
                self.fs.pipe_file(self._remote(key), data)
            except Exception as exc:
                raise self._wrap(exc, key, "storing") from exc
        return hashlib.sha256(data).hexdigest()

    def put_dir(self, local_dir: str | Path, key: str, *, move: bool = False) -> str:
        """Store a local directory under `key`, replacing whatever was there; the manifest is
        written last. Returns the directory's checksum (sha256 of the manifest)."""
        local_dir = Path(local_dir)
        manifest = directory_manifest(local_dir)
        checksum = hashlib.sha256(manifest).hexdigest()
        if self.is_local:
            target = Path(self._remote(key))
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.parent / f".tmp-{uuid.uuid4().hex}-{target.name}"
            try:
                if move:
                    shutil.move(str(local_dir), tmp)
                else:
                    shutil.copytree(local_dir, tmp)
                (tmp / MANIFEST).write_bytes(manifest)
                if target.exists():  # a leftover of a crash before its row was written
                    shutil.rmtree(target)
                os.rename(tmp, target)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
            return checksum
        self.delete_prefix(key, keep_cache=True)  # leftovers would mix with the new files
        files = json.loads(manifest)["files"]
        try:
            for rel in files:
                self.fs.put_file(str(local_dir / rel), self._remote(f"{key}/{rel}"))
            self.fs.pipe_file(self._remote(f"{key}/{MANIFEST}"), manifest)
        except Exception as exc:
            raise self._wrap(exc, key, "storing directory") from exc
        if move:
            shutil.rmtree(self.cache_dir / key, ignore_errors=True)
            for rel, entry in files.items():
                self._adopt(local_dir / rel, f"{key}/{rel}", entry["sha256"])
            manifest_copy = local_dir / MANIFEST
            manifest_copy.write_bytes(manifest)
            self._adopt(manifest_copy, f"{key}/{MANIFEST}", checksum)
            shutil.rmtree(local_dir, ignore_errors=True)
        return checksum

    # --- reading ----------------------------------------------------------------------------
    def get_file(self, key: str, sha256: str | None = None) -> Path:
        """A local path holding object `key`. From S3: this host's cached copy, downloaded
        when absent or no longer matching `sha256` (the checksum the caller stored) and checked
        against it. ObjectMissing when there is no such object, ChecksumMismatch when the
        stored object is not the one the caller expects."""
        if self.is_local:
            path = Path(self._remote(key))
            if not path.is_file():
                raise ObjectMissing(f"object {key!r}: not found in {self.url}")
            return path
        target = self.cache_dir / check_key(key)
        if self._cached(target, key, sha256):
            return target
        with self._lock(key):
            if self._cached(target, key, sha256):
                return target
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.parent / f".dl-{uuid.uuid4().hex}-{target.name}"
            try:
                try:
                    self.fs.get_file(self._remote(key), str(tmp))
                except Exception as exc:
                    raise self._wrap(exc, key, "object") from exc
                got = sha256_file(tmp)
                if sha256 and got != sha256:
                    raise ChecksumMismatch(f"object {key!r} in {self.url} has sha256 {got[:12]}..., "
                                           f"expected {sha256[:12]}... (replaced or damaged in the store)")
                os.replace(tmp, target)
                self._write_meta(target, key, got)
                logger.info("storage: downloaded %s (%d bytes) into the cache", key, target.stat().st_size)
            finally:
                tmp.unlink(missing_ok=True)
        return target

    def get_dir(self, key: str, checksum: str | None = None) -> Path:
        """A local directory holding the directory stored under `key` by `put_dir`. With a
        `checksum`, the manifest must be the one it names (ChecksumMismatch otherwise), and
        from S3 every file is checked against the manifest's sha256."""
        manifest_key = f"{check_key(key)}/{MANIFEST}"
        if self.is_local:
            directory = Path(self._remote(key))
            if not directory.is_dir():
                raise ObjectMissing(f"directory {key!r}: not found in {self.url}")
            if checksum:
                try:
                    got = hashlib.sha256((directory / MANIFEST).read_bytes()).hexdigest()
                except FileNotFoundError:
                    raise ObjectMissing(f"directory {key!r} in {self.url} has no {MANIFEST}") from None
                if got != checksum:
                    raise ChecksumMismatch(f"directory {key!r} in {self.url}: manifest sha256 "
                                           f"{got[:12]}..., expected {checksum[:12]}...")
            return directory
        try:
            manifest = json.loads(self.get_file(manifest_key, checksum).read_bytes())
        except ObjectMissing:
            raise ObjectMissing(f"directory {key!r}: not found in {self.url} (no {MANIFEST})") from None
        for rel, entry in manifest["files"].items():
            self.get_file(f"{key}/{rel}", entry["sha256"])
        return self.cache_dir / key

    def copy_dir_into(self, key: str, target: str | Path) -> None:
        """Copy the directory stored under `key` into the empty local directory `target`,
        every file checked against the manifest's sha256 (for a caller that keeps its own
        copy, such as the encoder export cache). ObjectMissing when there is no manifest."""
        target = Path(target)
        manifest = json.loads(self.read_bytes(f"{check_key(key)}/{MANIFEST}"))
        for rel, entry in manifest["files"].items():
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            if self.is_local:
                shutil.copyfile(self._remote(f"{key}/{rel}"), out)
            else:
                try:
                    self.fs.get_file(self._remote(f"{key}/{rel}"), str(out))
                except Exception as exc:
                    raise self._wrap(exc, f"{key}/{rel}", "object") from exc
            got = sha256_file(out)
            if got != entry["sha256"]:
                raise ChecksumMismatch(f"object {key}/{rel} in {self.url} has sha256 {got[:12]}..., "
                                       f"its manifest says {entry['sha256'][:12]}...")

    def seal_dir(self, key: str) -> str:
        """Write the manifest of a directory already in a local store (artifacts written before
        manifests existed); returns its checksum."""
        if not self.is_local:
            raise StorageError("seal_dir is for a local store; upload with put_dir")
        directory = Path(self._remote(key))
        if not directory.is_dir():
            raise ObjectMissing(f"directory {key!r}: not found in {self.url}")
        manifest = directory_manifest(directory)
        tmp = directory / f".tmp-{uuid.uuid4().hex}"
        tmp.write_bytes(manifest)
        os.replace(tmp, directory / MANIFEST)
        return hashlib.sha256(manifest).hexdigest()

    def read_bytes(self, key: str) -> bytes:
        """Small, possibly rewritten objects (a cached map, a marker), read from the store
        every time (never cached). ObjectMissing when absent."""
        try:
            return self.fs.cat_file(self._remote(key))
        except Exception as exc:
            raise self._wrap(exc, key, "object") from exc

    def exists(self, key: str) -> bool:
        try:
            return bool(self.fs.exists(self._remote(key)))
        except Exception as exc:
            raise self._wrap(exc, key, "checking") from exc

    def list(self, prefix: str = "") -> list[str]:
        """Keys of the objects under `prefix` (every key when empty), sorted; temporary names of
        writers in progress are left out."""
        base = self.root if not prefix else self._remote(prefix.rstrip("/"))
        try:
            found = self.fs.find(base)
        except FileNotFoundError:
            return []
        except Exception as exc:
            raise self._wrap(exc, prefix, "listing") from exc
        root = self.root.rstrip("/") + "/"
        keys = []
        for path in found:
            path = str(path)
            rel = path[len(root):] if path.startswith(root) else path
            if any(part.startswith((".tmp-", ".scratch", ".dl-")) for part in rel.split("/")):
                continue
            keys.append(rel)
        return sorted(keys)

    # --- deleting ---------------------------------------------------------------------------
    def delete(self, key: str) -> None:
        """Delete one object (absent is fine) and this host's cached copy."""
        try:
            self.fs.rm_file(self._remote(key))
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise self._wrap(exc, key, "deleting") from exc
        if not self.is_local:
            (self.cache_dir / key).unlink(missing_ok=True)
            self._meta_path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str, *, keep_cache: bool = False) -> None:
        """Delete every object under `prefix` (absent is fine) and this host's cached copies.
        Other hosts' caches keep their copies until they are pruned or the host's cache is
        cleared; no row names those objects any more."""
        path = self._remote(prefix.rstrip("/"))
        try:
            self.fs.rm(path, recursive=True)
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise self._wrap(exc, prefix, "deleting") from exc
        if not keep_cache and not self.is_local:
            self.prune_cache(prefix, keep=())

    def prune_cache(self, prefix: str, keep: set[str] | tuple[str, ...] = ()) -> int:
        """Remove this host's cached copies under `prefix` except the keys in `keep` (a set was
        merged, a version deleted); returns how many files went. Local stores have no cache."""
        if self.is_local:
            return 0
        base = self.cache_dir / check_key(prefix.rstrip("/"))
        removed = 0
        if base.is_file():
            candidates = [base]
        elif base.is_dir():
            candidates = [p for p in base.rglob("*") if p.is_file()]
        else:
            candidates = []
        for path in candidates:
            key = path.relative_to(self.cache_dir).as_posix()
            if key in keep or path.name.startswith(".dl-"):
                continue
            path.unlink(missing_ok=True)
            self._meta_path(key).unlink(missing_ok=True)
            removed += 1
        if base.is_dir() and not keep:
            shutil.rmtree(base, ignore_errors=True)
            shutil.rmtree(self._meta_path(prefix.rstrip("/")).with_suffix(""), ignore_errors=True)
        return removed

    # --- this host's cache --------------------------------------------------------------------
    def _meta_path(self, key: str) -> Path:
        return self.cache_dir / ".meta" / f"{key}.json"

    def _write_meta(self, target: Path, key: str, sha: str) -> None:
        stat = target.stat()
        meta = self._meta_path(key)
        meta.parent.mkdir(parents=True, exist_ok=True)
        tmp = meta.parent / f".tmp-{uuid.uuid4().hex}"
        tmp.write_text(json.dumps({"sha256": sha, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}))
        os.replace(tmp, meta)

    def _cached(self, target: Path, key: str, sha: str | None) -> bool:
        """The cached copy is the verified one: its recorded checksum is the expected one and
        the file is as it was when verified (size and modification time)."""
        try:
            meta = json.loads(self._meta_path(key).read_text())
            stat = target.stat()
        except (OSError, ValueError):
            return False
        if sha and meta.get("sha256") != sha:
            return False
        return meta.get("size") == stat.st_size and meta.get("mtime_ns") == stat.st_mtime_ns

    def _adopt(self, local: Path, key: str, sha: str) -> None:
        """A writer's own finished file becomes this host's cached copy (no download later)."""
        target = self.cache_dir / check_key(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._lock(key):
            shutil.move(str(local), target)
            self._write_meta(target, key, sha)

    @contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        locks = self.cache_dir / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1(key.encode()).hexdigest()
        with open(locks / f"{name}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
