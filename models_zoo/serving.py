"""Per-process cache of loaded model versions for the prediction API and prediction jobs.

Label-studio-ml-backend users complain about models rebuilt on every request; we load a version
once per process and keep it. Promotion needs no restart: each request asks the database for the
project's current version id (one query on the partial unique index of ModelVersion.is_current),
and only when that id is not cached is the new artifact loaded. Loading happens under a
per-version lock so concurrent requests load a version once; requests that already hold the old
backend object keep using it, because eviction only drops the cache's reference. A small LRU
bounds memory when several projects (or an old and a new version) are served by one process.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models_zoo.artifacts import load_backend
from models_zoo.backends.base import BackendError
from models_zoo.models import ModelVersion
from models_zoo.services.artifact_storage import ArtifactUnavailable, local_artifact

if TYPE_CHECKING:
    from models_zoo.backends.base import Backend, Item, ItemPrediction

logger = logging.getLogger(__name__)

# torch's OpenMP threads spin after every parallel region unless told otherwise; next to other
# busy processes (Celery workers, a second web process) that spinning steals the cores the
# model needs. Measured here (2 shared cores, MiniLM, 128 tweets, batch 64): 11.7 s with the
# default, 5.8 s with PASSIVE; one tweet at a time: 64 s vs 6.5 s. Set before torch is first
# imported (models are loaded lazily, after this module); an operator's own value wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

DEFAULT_MAX_VERSIONS = int(os.environ.get("VIGIA_MODEL_CACHE_SIZE", "4"))


class NoCurrentModel(LookupError):
    """The project has no ModelVersion with is_current=True."""

    def __init__(self, project_id: int) -> None:
        self.project_id = project_id
        super().__init__(f"project {project_id} has no current model; train one and promote it")


class ModelUnavailable(RuntimeError):
    """The current version's artifact could not be loaded (missing directory, bad manifest)."""


@dataclass(frozen=True)
class VersionRef:
    """What one cheap query tells us about a project's current version."""

    id: int
    project_id: int
    artifact_dir: str  # the artifact's storage key
    backend_name: str
    artifact_checksum: str = ""


@dataclass
class LoadedModel:
    """A fitted backend ready to predict, tagged with the version it came from."""

    version_id: int
    project_id: int
    backend: Backend
    artifact_dir: str = ""
    artifact_checksum: str = ""
    loaded_at: float = field(default_factory=time.monotonic)
    load_seconds: float = 0.0

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self.backend.thresholds)

    @property
    def labels(self) -> list[str]:
        return list(self.backend.labels)

    def predict(self, items: Sequence[Item]) -> list[ItemPrediction]:
        """Run the backend on the process's inference thread(s); see `inference_executor`."""
        return inference_executor().submit(self.backend.predict, items).result()


# Web servers run each request on its own (often brand-new) thread. torch's OpenMP pool is per
# calling thread, so a fresh thread pays to build one (measured here: single-item MiniLM p50
# 26.8 ms on fresh threads vs 18.7 ms on a persistent one), and concurrent requests would each
# start a pool and oversubscribe the cores. Model calls therefore go through a small persistent
# executor: one thread by default, which on CPU already uses every core through torch.
INFERENCE_THREADS = int(os.environ.get("VIGIA_INFERENCE_THREADS", "1"))
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def inference_executor() -> ThreadPoolExecutor:
    """The process-wide executor that runs model forwards."""
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(
                    max_workers=max(1, INFERENCE_THREADS), thread_name_prefix="vigia-inference"
                )
    return _executor


def _forget_executor_after_fork() -> None:
    # A forked child (Celery prefork) inherits the object but not its threads.
    global _executor
    _executor = None


os.register_at_fork(after_in_child=_forget_executor_after_fork)


def _default_loader(artifact_dir: str) -> Backend:
    return load_backend(artifact_dir)


def current_version_ref(project_id: int) -> VersionRef:
    """The project's current version (id and artifact) or NoCurrentModel; a single query."""
    row = (
        ModelVersion.objects.filter(project_id=project_id, is_current=True)
        .values_list("id", "artifact_dir", "backend", "artifact_checksum")
        .first()
    )
    if row is None:
        raise NoCurrentModel(project_id)
    return VersionRef(id=row[0], project_id=project_id, artifact_dir=row[1], backend_name=row[2],
                      artifact_checksum=row[3])


def version_ref(version_id: int) -> VersionRef:
    """A specific version (e.g. the one a prediction job was started with)."""
    row = (
        ModelVersion.objects.filter(pk=version_id)
        .values_list("id", "project_id", "artifact_dir", "backend", "artifact_checksum")
        .first()
    )
    if row is None:
        raise LookupError(f"model version {version_id} does not exist")
    return VersionRef(id=row[0], project_id=row[1], artifact_dir=row[2], backend_name=row[3],
                      artifact_checksum=row[4])


class ModelCache:
    """Thread-safe LRU of loaded versions keyed by ModelVersion id."""

    def __init__(
        self,
        max_versions: int = DEFAULT_MAX_VERSIONS,
        loader: Callable[[str], Backend] | None = None,
    ) -> None:
        if max_versions < 1:
            raise ValueError("max_versions must be at least 1")
        self.max_versions = max_versions
        self._loader = loader or _default_loader
        self._models: OrderedDict[int, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        # One lock per version being loaded: loading B does not block requests served by A.
        self._loading: dict[int, threading.Lock] = {}
        self.loads = 0  # how many artifacts this cache has loaded (tests and metrics read it)

    def get(self, ref: VersionRef) -> LoadedModel:
        """The loaded model for `ref`, loading it once if this process has not yet."""
        with self._lock:
            model = self._lookup(ref)
            if model is not None:
                return model
            version_lock = self._loading.setdefault(ref.id, threading.Lock())
        with version_lock:
            # Another thread may have finished loading while we waited for the lock.
            with self._lock:
                model = self._lookup(ref)
                if model is not None:
                    return model
            model = self._load(ref)
            with self._lock:
                self._models[ref.id] = model
                self._models.move_to_end(ref.id)
                while len(self._models) > self.max_versions:
                    evicted, _ = self._models.popitem(last=False)
                    logger.info("model cache: evicted version %s", evicted)
                self._loading.pop(ref.id, None)
            return model

    def _lookup(self, ref: VersionRef) -> LoadedModel | None:
        # Caller holds self._lock. The artifact key and checksum are part of the key: an id
        # reused after a database restore must not serve another artifact.
        model = self._models.get(ref.id)
        if model is None or (model.artifact_dir, model.artifact_checksum) != (
                ref.artifact_dir, ref.artifact_checksum):
            return None
        self._models.move_to_end(ref.id)
        return model

    def _load(self, ref: VersionRef) -> LoadedModel:
        started = time.monotonic()
        try:
            # The store itself, or this host's cached copy (downloaded once, checksum-checked).
            directory = local_artifact(ref.artifact_dir, ref.artifact_checksum)
        except ArtifactUnavailable as exc:
            raise ModelUnavailable(f"model version {ref.id}: artifact not available: {exc}") from exc
        try:
            backend = self._loader(str(directory))
        except (OSError, ValueError, LookupError, BackendError) as exc:
            raise ModelUnavailable(f"model version {ref.id}: cannot load artifact: {exc}") from exc
        elapsed = time.monotonic() - started
        self.loads += 1
        logger.info(
            "model cache: loaded version %s (%s) in %.2fs", ref.id, ref.backend_name, elapsed
        )
        return LoadedModel(
            version_id=ref.id,
            project_id=ref.project_id,
            backend=backend,
            artifact_dir=ref.artifact_dir,
            artifact_checksum=ref.artifact_checksum,
            load_seconds=elapsed,
        )

    def current(self, project_id: int) -> LoadedModel:
        """The project's current version, loaded; picks up promotions on the next call."""
        return self.get(current_version_ref(project_id))

    def cached_version_ids(self) -> list[int]:
        """Cached ids, least recently used first."""
        with self._lock:
            return list(self._models)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "max_versions": self.max_versions,
                "cached": list(self._models),
                "loads": self.loads,
            }


_cache: ModelCache | None = None
_cache_lock = threading.Lock()


def get_model_cache() -> ModelCache:
    """The process-wide cache (web process and Celery worker each hold their own)."""
    global _cache
    if _cache is None:
        with _cache_lock:
            if _cache is None:
                _cache = ModelCache()
    return _cache
