"""Model artifacts in the shared storage (config/storage): saved by the worker that trained, loaded
by whichever host serves or predicts.

A version refers to its artifact by key (`<project>/<run>`, relative to `VIGIA_STORAGE_URL`) and
by the checksum of the directory's manifest (`ModelVersion.artifact_checksum`), never by a host's
absolute path. The worker saves the fitted backend into a scratch directory, uploads it whole
(manifest last) and keeps its copy as this host's cached one; another host downloads the
directory once into its cache and checks every file against the manifest the checksum names.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from config.storage import StorageError, check_key, get_storage

if TYPE_CHECKING:
    from models_zoo.backends.base import Backend

logger = logging.getLogger(__name__)


class ArtifactUnavailable(LookupError):
    """The version's artifact cannot be read on this host (message says why)."""


def artifact_key(project_id: int, run_id: int) -> str:
    return f"{int(project_id)}/{int(run_id)}"


def save_artifact(backend: Backend, key: str) -> str:
    """Save a fitted backend under `key`, whole (a failure leaves nothing a version could name);
    returns the checksum to store on the version."""
    storage = get_storage()
    scratch = storage.scratch_dir()
    try:
        local = scratch / "artifact"
        backend.save(local)
        return storage.put_dir(local, key, move=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def local_artifact(key: str, checksum: str = "") -> Path:
    """A local directory holding the artifact stored under `key` (the store itself, or this
    host's verified cached copy). ArtifactUnavailable naming the key otherwise."""
    if not key or key.startswith("/"):
        raise ArtifactUnavailable(
            f"artifact {key!r} is not a storage key (a path on the host that trained it?): "
            f"store the directory under VIGIA_STORAGE_URL and record its key")
    try:
        return get_storage().get_dir(key, checksum or None)
    except (StorageError, ValueError) as exc:
        raise ArtifactUnavailable(str(exc)) from exc


def delete_artifact(key: str) -> None:
    """Delete the artifact's objects (a deleted version or a run that produced no version)."""
    try:
        check_key(key)
    except ValueError:
        return  # not a key (a legacy path or a placeholder): nothing of ours to delete
    get_storage().delete_prefix(key)


def delete_project_artifacts(project_id: int) -> None:
    """Everything stored for a deleted project's models (versions and leftovers of failed runs)."""
    get_storage().delete_prefix(str(int(project_id)))
