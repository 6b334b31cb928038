"""The all-or-nothing bulk writer. It runs inside the caller's transaction and skips rows whose
content hash is already in the project (or earlier in the same file), counting them. It also
refuses a second, different text under an external id already used earlier in the file
(`id_conflicts`), found in SQL on its staging table once every row is there, so its memory
stays flat at any size.

Rows stream through `COPY` into a temporary staging table, then one
`INSERT ... SELECT ... ON CONFLICT DO NOTHING` moves them into `annotator_example` (first
occurrence in file order wins) and a second statement adds the imported annotations.
"""
from __future__ import annotations

import json
import logging
import uuid

import psycopg
from django.db import connection

from annotator.importers.errors import RowError
from annotator.importers.mapping import PreparedRow
from annotator.importers.values import posted_at_of
from annotator.models import AnnotationSource, Project

logger = logging.getLogger(__name__)
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


# First key of the advisory lock that serialises the insert step of imports per project.
IMPORT_LOCK_NAMESPACE = 7316


def id_conflict_error(line: int, external_id: str, first_line: int) -> RowError:
    return RowError(
        line,
        f"external id {external_id!r} is already used on line {first_line} by a different "
        "text (ids must be unique within a file)",
    )


class PostgresCopyWriter:
    """COPY into a temp table, then set-based dedupe and insert."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.table = f"vigia_import_{uuid.uuid4().hex[:12]}"
        self.rows = 0
        self.annotated = 0
        self._cursor = connection.cursor()
        raw = self._cursor.cursor
        create = (
            f"CREATE TEMP TABLE {self.table} (seq bigint, line bigint, text text, normalized_text text, "
            "meta jsonb, external_id text, content_hash text, labels jsonb, spans jsonb, "
            "annotated boolean, posted_at timestamptz, image text, image_width integer, "
            "image_height integer)"
        )
        copy = (
            f"COPY {self.table} (seq, line, text, normalized_text, meta, external_id, content_hash, "
            "labels, spans, annotated, posted_at, image, image_width, image_height) FROM STDIN"
        )
        # FREEZE: the table is created in this subtransaction, so rows are written frozen and
        # reading them back sets no hint bits. PostgreSQL refuses FREEZE when the transaction
        # holds an open cursor or snapshot, and says so only once the COPY ends: an empty COPY
        # probes it, and on refusal the savepoint is rolled back and a plain COPY is used.
        raw.execute("SAVEPOINT vigia_import_stage")
        raw.execute(create)
        freeze = " WITH (FREEZE)"
        try:
            with raw.copy(copy + freeze):
                pass
        except (psycopg.errors.InvalidTransactionState, psycopg.errors.ObjectNotInPrerequisiteState):
            raw.execute("ROLLBACK TO SAVEPOINT vigia_import_stage")
            raw.execute(create)
            freeze = ""
        self._copy_cm = raw.copy(copy + freeze)
        self._copy = self._copy_cm.__enter__()

    def add(self, row: PreparedRow) -> None:
        self.rows += 1
        annotated = row.labels is not None or row.spans is not None
        self.annotated += annotated
        self._copy.write_row(
            (
                self.rows,
                row.line,
                row.text,
                row.normalized_text,
                _dumps(row.meta),
                row.external_id,
                row.content_hash,
                # Unlabelled rows stage NULLs: nothing for the server to parse.
                _dumps(row.labels or []) if annotated else None,
                _dumps(row.spans or []) if annotated else None,
                annotated,
                posted_at_of(row.meta),
                row.image,
                row.image_width,
                row.image_height,
            )
        )

    def id_conflicts(self, *, remove: bool, limit: int) -> tuple[int, list[RowError]]:
        """One hash aggregate over the staged ids finds those with more than one text (none, in
        a well-formed file); only their rows are then compared with each id's first row."""
        self._end_copy()
        raw = self._cursor.cursor
        raw.execute(
            f"CREATE TEMP TABLE {self.table}_ids AS SELECT external_id FROM {self.table} "
            "WHERE external_id <> '' GROUP BY external_id "
            "HAVING min(content_hash) <> max(content_hash)"
        )
        if not raw.rowcount:
            raw.execute(f"DROP TABLE {self.table}_ids")
            return 0, []
        # The first row of each such id (in file order), and every later row with another text.
        raw.execute(
            f"CREATE TEMP TABLE {self.table}_bad AS "
            "WITH firsts AS (SELECT DISTINCT ON (s.external_id) s.external_id, s.line, "
            f"s.content_hash FROM {self.table} s JOIN {self.table}_ids USING (external_id) "
            "ORDER BY s.external_id, s.seq) "
            "SELECT s.seq, s.line, s.external_id, f.line AS first_line "
            f"FROM {self.table} s JOIN firsts f USING (external_id) "
            "WHERE s.content_hash <> f.content_hash"
        )
        count = raw.rowcount
        raw.execute(
            f"SELECT line, external_id, first_line FROM {self.table}_bad ORDER BY seq LIMIT %s",
            (limit,),
        )
        errors = [id_conflict_error(*found) for found in raw.fetchall()]
        if remove:
            # Deleting leaves the other rows where they are, so the insert still reads them in
            # file order.
            raw.execute(f"DELETE FROM {self.table} WHERE seq IN (SELECT seq FROM {self.table}_bad)")
            self.rows -= raw.rowcount
            self.annotated = self.annotated and self._annotated_left()
        raw.execute(f"DROP TABLE {self.table}_bad, {self.table}_ids")
        return count, errors

    def _annotated_left(self) -> int:
        raw = self._cursor.cursor
        raw.execute(f"SELECT count(*) FROM {self.table} WHERE annotated")
        return int(raw.fetchone()[0])

    def _end_copy(self) -> None:
        if self._copy_cm is not None:
            cm, self._copy_cm = self._copy_cm, None
            cm.__exit__(None, None, None)

    def abort(self, exc: BaseException) -> None:
        # Ends the COPY with an error; the caller's transaction rolls everything back.
        try:
            if self._copy_cm is not None:
                self._copy_cm.__exit__(type(exc), exc, exc.__traceback__)
        except Exception:
            logger.debug("ending an aborted COPY raised", exc_info=True)
        self._cursor.close()

    def finish(self) -> tuple[int, int]:
        """Store the staged rows; returns (imported, duplicates)."""
        self._end_copy()
        raw = self._cursor.cursor
        pid = self.project.pk
        # Two imports into one project with overlapping texts would insert the same unique keys
        # in different orders and deadlock: staging runs in parallel, the insert step takes
        # turns (the lock is released when the transaction ends).
        raw.execute("SELECT pg_advisory_xact_lock(%s, %s)", (IMPORT_LOCK_NAMESPACE, pid))
        insert = (
            "INSERT INTO annotator_example (project_id, text, normalized_text, meta, "
            "external_id, content_hash, image, image_width, image_height, queue_key, assigned_count, "
            "posted_at, created_at) "
            "SELECT %s, text, normalized_text, meta, external_id, content_hash, image, image_width, "
            f"image_height, random(), 0, posted_at, now() FROM {self.table} "
            "ON CONFLICT (project_id, content_hash) DO NOTHING"
        )
        # DO NOTHING also drops repeats within the file: the first occurrence wins because a
        # sequential scan of this fresh, session-local table (never updated, never scanned in
        # parallel or synchronised) returns rows in the order COPY wrote them. That also makes
        # ids follow the file, without sorting a million wide rows.
        if not self.annotated:
            raw.execute(insert, (pid,))
            imported = raw.rowcount
        else:
            raw.execute(f"CREATE TEMP TABLE {self.table}_ins (id bigint, content_hash text)")
            raw.execute(
                f"WITH ins AS ({insert} RETURNING id, content_hash) "
                f"INSERT INTO {self.table}_ins SELECT id, content_hash FROM ins",
                (pid,),
            )
            imported = raw.rowcount
            # Each new example takes the annotation (or none) of its first occurrence in the file.
            raw.execute(
                "INSERT INTO annotator_annotation (example_id, user_id, labels, spans, source, "
                "created_at, updated_at) "
                "SELECT f.id, NULL, f.labels, f.spans, %s, now(), now() FROM ("
                "SELECT DISTINCT ON (i.id) i.id, s.labels, s.spans, s.annotated "
                f"FROM {self.table}_ins i JOIN {self.table} s USING (content_hash) "
                "ORDER BY i.id, s.seq) f WHERE f.annotated",
                (AnnotationSource.IMPORT.value,),
            )
            raw.execute(f"DROP TABLE {self.table}_ins")
        raw.execute(f"DROP TABLE {self.table}")
        self._cursor.close()
        return imported, self.rows - imported
