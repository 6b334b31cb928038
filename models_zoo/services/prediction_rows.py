"""Storing many predictions at once, set-based (issue 21).

Every path that writes Prediction rows in bulk (a predict-all chunk, `predict_project`, the
stop set after training) calls `write_predictions`: the rows are streamed with one COPY into a
per-connection temporary table, then moved with one INSERT ... SELECT ... ON CONFLICT. Against
the ORM's `bulk_create(update_conflicts=True)` this skips building a model instance and a
parameter tuple per row and the parsing of a 10,000-row VALUES list (bench/prediction_writes.py
measures both). The daily counts of the prevalence index follow in the same statement, through
the triggers of models_zoo migration 0006.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from django.db import connection, transaction
from django.utils import timezone

from models_zoo.backends.base import ItemPrediction

STAGING = "vigia_prediction_rows"

# Created once per database connection; ON COMMIT DELETE ROWS empties it at the end of the
# transaction that filled it (transactions that never touch it pay nothing).
_CREATE_STAGING = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} (example_id bigint NOT NULL, "
    "scores jsonb NOT NULL, labels jsonb NOT NULL, spans jsonb NOT NULL, confidence float8) "
    "ON COMMIT DELETE ROWS"
)
_MOVE = (
    "INSERT INTO models_zoo_prediction (example_id, model_version_id, scores, labels, spans, "
    "confidence, created_at) "
    f"SELECT example_id, %s, scores, labels, spans, confidence, %s FROM {STAGING} "
    "ORDER BY example_id ON CONFLICT (example_id, model_version_id) DO "
)
_OVERWRITE = (
    "UPDATE SET scores = excluded.scores, labels = excluded.labels, spans = excluded.spans, "
    "confidence = excluded.confidence"
)


def _row(example_id: int, p: ItemPrediction) -> tuple[int, str, str, str, float | None]:
    confidence = p.extras.get("confidence")
    return (
        int(example_id),
        json.dumps({k: float(v) for k, v in p.scores.items()}),
        json.dumps(list(p.labels)),
        json.dumps(list(p.spans)),
        None if confidence is None else float(confidence),
    )


def write_predictions(
    version_id: int,
    example_ids: Sequence[int],
    predictions: Sequence[ItemPrediction],
    on_conflict: Literal["overwrite", "keep"] = "overwrite",
) -> int:
    """Store one Prediction of version `version_id` per example (`predictions[i]` belongs to
    `example_ids[i]`; each example at most once). An existing row for (example, version) is
    overwritten (a re-run) or kept (`on_conflict="keep"`). Runs inside the caller's transaction,
    or in its own. Returns the rows inserted or overwritten."""
    if len(example_ids) != len(predictions):
        raise ValueError(f"{len(example_ids)} example ids for {len(predictions)} predictions")
    if not example_ids:
        return 0
    # Serialise before touching the database: a bad value fails with nothing staged.
    rows = [_row(e, p) for e, p in zip(example_ids, predictions, strict=True)]
    action = _OVERWRITE if on_conflict == "overwrite" else "NOTHING"
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(_CREATE_STAGING)
        with cur.cursor.copy(
            f"COPY {STAGING} (example_id, scores, labels, spans, confidence) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        # created_at from this process's clock, as the ORM's auto_now_add set it (the
        # database's now() is the transaction's start, and another host's clock).
        cur.execute(_MOVE + action, [version_id, timezone.now()])
        written = cur.rowcount
        # Empty for a second call in the same transaction (DELETE: a TRUNCATE would rewrite
        # the catalog on every call).
        cur.execute(f"DELETE FROM {STAGING}")
    return written
