"""Fitted embedding_head artifacts and ModelVersion rows for the prediction tests.

Two real artifacts are built once per test session from 48 HatEval EN training rows (HS/TR/AG,
the labels of the `project` fixture) with the packaged MiniLM: "v1" and "v2" differ in the
logistic-regression strength, so their scores differ and a promotion is visible in answers.
Test modules wrap `prediction_artifacts()` in a session fixture of their own.
"""

from __future__ import annotations

import atexit
import csv
import functools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from models_zoo.backends.base import Item

# HatEval's layout, from the repository's own samples (tests/fixtures/README.md): the default
# suite needs no ../shared. The rows are synthetic; these tests check serving, not quality.
HATEVAL_TRAIN = Path(__file__).resolve().parents[1] / "fixtures" / "datasets" / "hateval2019" / "dev_en.tsv"
LABELS = ("HS", "TR", "AG")

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def hateval_rows(n: int, offset: int = 0, path: Path | None = None) -> list[tuple[str, list[str]]]:
    """`n` HatEval-layout rows as (text, labels) from `path` (default: the repository's synthetic
    sample); quoting disabled (quotes inside text)."""
    rows: list[tuple[str, list[str]]] = []
    with (path or HATEVAL_TRAIN).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        for i, row in enumerate(reader):
            if i < offset:
                continue
            rows.append((row["text"], [name for name in LABELS if row[name].strip() == "1"]))
            if len(rows) == n:
                break
    return rows


def build_artifact(directory: Path, c: float = 1.0, n: int = 48) -> Path:
    """Fit embedding_head (packaged MiniLM + logistic regression) and save it to `directory`."""
    from annotator.normalize import normalize
    from models_zoo.backends.embedding_head import EmbeddingHeadBackend

    items = [Item(text=normalize(text), labels=labels) for text, labels in hateval_rows(n)]
    # Every third row validates: both splits hold positives of every label in these rows.
    train = [item for i, item in enumerate(items) if i % 3]
    validation = [item for i, item in enumerate(items) if not i % 3]
    backend = EmbeddingHeadBackend(list(LABELS), "multilabel", {"C": c, "embed_batch_size": 64})
    backend.fit(train, validation)
    backend.save(directory)
    return directory


@functools.lru_cache(maxsize=1)
def prediction_artifacts() -> dict[str, Path]:
    """Two fitted artifacts, built once per process: {"v1": dir, "v2": dir}.

    Cached here rather than in a session fixture so any test module can use them without
    importing fixtures; the directory is removed when the process exits.
    """
    root = Path(tempfile.mkdtemp(prefix="vigia-prediction-artifacts-"))
    atexit.register(shutil.rmtree, root, True)
    return {"v1": build_artifact(root / "v1", c=1.0), "v2": build_artifact(root / "v2", c=0.05)}


def store_artifact(artifact_dir: Path | str, project_id: int) -> tuple[str, str]:
    """Upload a local artifact directory into the test's store, as training does; (key,
    checksum) for the version row."""
    import uuid

    from config.storage import get_storage

    key = f"{project_id}/test-{uuid.uuid4().hex[:8]}"
    return key, get_storage().put_dir(Path(artifact_dir), key)


def make_version(project: Any, artifact_dir: Path | str, *, current: bool = False) -> Any:
    """A ModelVersion row for an artifact (uploaded into the test's store under a fresh key),
    as a succeeded training run would create it."""
    from models_zoo.artifacts import read_manifest
    from models_zoo.models import ModelVersion

    manifest = read_manifest(artifact_dir)
    key, checksum = store_artifact(artifact_dir, project.pk)
    return ModelVersion.objects.create(
        project=project,
        backend=manifest["backend"],
        config=manifest["config"],
        artifact_dir=key,
        artifact_checksum=checksum,
        labels=manifest["labels"],
        thresholds=manifest.get("thresholds", {}),
        metrics=manifest.get("metrics", {}),
        is_current=current,
    )


def promote(version: Any) -> None:
    """Make `version` its project's current one the way promotion does (one transaction)."""
    from django.db import transaction
    from django.utils import timezone

    from models_zoo.models import ModelVersion

    with transaction.atomic():
        ModelVersion.objects.filter(project_id=version.project_id, is_current=True).update(
            is_current=False
        )
        ModelVersion.objects.filter(pk=version.pk).update(
            is_current=True, promoted_at=timezone.now()
        )


__all__ = [
    "LABELS",
    "build_artifact",
    "hateval_rows",
    "make_version",
    "prediction_artifacts",
    "promote",
]
