"""A tiny fitted embedding_head artifact (in-process tiny BERT, no shared data) and examples
for the chunked-prediction tests."""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from pathlib import Path

from annotator.models import Example
from annotator.normalize import content_hash
from tests.models_zoo.tiny_embedding_head import make_case

_keep: list[tempfile.TemporaryDirectory] = []


@functools.lru_cache(maxsize=1)
def tiny_artifact() -> Path:
    scratch = tempfile.TemporaryDirectory(prefix="vigia-chunk-artifact-")
    _keep.append(scratch)
    backend, train, validation, _ = make_case(Path(scratch.name))
    backend.fit(train, validation)
    out = Path(scratch.name) / "artifact"
    backend.save(out)
    return out


def add_texts(project, n: int, days: int = 0) -> list[int]:
    """`n` examples; with `days`, posted over that many days (one example every few hours)."""
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    rows = [
        Example(
            project=project,
            text=f"tweet {i} about the flood",
            normalized_text=f"tweet {i} about the flood",
            content_hash=content_hash(f"chunk-{project.pk}-{i}"),
            posted_at=start + dt.timedelta(hours=i * 24 * days // n) if days else None,
        )
        for i in range(n)
    ]
    return [e.pk for e in Example.objects.bulk_create(rows, batch_size=2000)]
