"""Artifact directories: `manifest.json` plus weights (safetensors or the library's own format).

The manifest names the backend by its registry name; loading looks that name up in the registry
and never imports a class path read from the file.
"""
from __future__ import annotations

import json
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models_zoo.registry import get_backend

if TYPE_CHECKING:
    from models_zoo.backends.base import Backend

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
_TRACKED_LIBRARIES = (
    "torch", "transformers", "sentence-transformers", "scikit-learn", "safetensors", "numpy",
)


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for lib in _TRACKED_LIBRARIES:
        try:
            versions[lib] = version(lib)
        except PackageNotFoundError:
            continue
    return versions


def write_manifest(directory: str | Path, backend: Backend, **extra: Any) -> Path:
    """Write manifest.json for a fitted backend; `extra` holds backend-specific fields."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    manifest = {
        "format_version": FORMAT_VERSION,
        "backend": backend.name,
        "task_type": backend.task_type,
        "config": backend.config.model_dump(mode="json"),
        "labels": backend.labels,
        "thresholds": backend.thresholds,
        "metrics": backend.metrics,
        "library_versions": library_versions(),
        **extra,
    }
    target = path / MANIFEST
    target.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return target


def read_manifest(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no manifest.json; not a Vigia model artifact")
    data: dict[str, Any] = json.loads(path.read_text())
    for key in ("backend", "task_type", "config", "labels"):
        if key not in data:
            raise ValueError(f"{path}: manifest field {key!r} is missing")
    return data


def load_backend(directory: str | Path) -> Backend:
    """Load a fitted backend from its artifact directory via the registry."""
    manifest = read_manifest(directory)
    return get_backend(manifest["backend"]).load(directory)
