"""Building bench/corpus.py's project: examples from real tweets, predictions of one version.

- Texts: `_data.tweet_pool()` (about 116k real tweets), shuffled once (seed 0); example k takes
  pool entry k mod P with the suffix " #k", so every text is unique. The CSV columns are those
  of an X export (id, text, created_at, retweet_count); bulk rows are computed as the
  importer computes them (normalisation, content hash, meta, posted_at) and checked against
  its own RowBuilder on the first rows of every batch, so they are what `import_file` stores.
- Posting times over five years (2015-01-01 to 2019-12-31, UTC): trump tweets keep their real
  time (plus up to 12 h either way); 60% of the others are uniform over the five years, 40%
  fall near a date proper to their event or file (normal, sigma 4 days): bursts, as events
  make them. Drawn with numpy seeded per batch, so an interrupted build resumes identically.
- Predictions: a TF-IDF + logistic-regression model per label (HS, TR, AG; fitted on HatEval
  EN train) scores each distinct pool text once (threshold 0.5); those scores land in a table
  `bench_corpus_pool`, and one INSERT ... SELECT per million examples writes every example's
  Prediction from its text's row (set-based: the model is not run 20M times; the " #k" suffix
  is the only difference between copies). The index triggers keep the daily counts as they
  would for a predict-all chunk.
- Bulk loading: the examples' and predictions' secondary indexes and unique constraints are
  dropped (definitions kept in `bench_corpus_state`) and rebuilt after, as a bulk load would.
  The last rows are not bulk-loaded: see bench/corpus.py (measured COPY and import).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
import time
import zlib
from pathlib import Path

import numpy as np

START = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
SPAN_DAYS = 1826  # 2015-01-01 .. 2019-12-31
LABELS = ("HS", "TR", "AG")
COLUMNS = ("id", "text", "created_at", "retweet_count")
STATE = "bench_corpus_state"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def state_get(key: str, default=None):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (key text PRIMARY KEY, value jsonb)")
        cur.execute(f"SELECT value FROM {STATE} WHERE key = %s", [key])
        row = cur.fetchone()
    return default if row is None else (json.loads(row[0]) if isinstance(row[0], str) else row[0])


def state_set(key: str, value) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (key text PRIMARY KEY, value jsonb)")
        cur.execute(
            f"INSERT INTO {STATE} VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, json.dumps(value)],
        )


class Pool:
    """The shuffled tweet pool and, per entry, its posting-time rule."""

    def __init__(self) -> None:
        from bench._data import tweet_pool

        entries = tweet_pool()
        order = np.random.default_rng(0).permutation(len(entries))
        self.entries = [entries[i] for i in order]
        groups = sorted({g for _, g, _ in self.entries})
        # A burst date per event or file, stable across runs (crc32 of its name).
        centre = {g: zlib.crc32(g.encode()) % SPAN_DAYS for g in groups}
        self.centre = np.array([centre[g] for _, g, _ in self.entries], dtype=float)
        self.real = np.array(
            [
                (dt.datetime.fromisoformat(t).replace(tzinfo=dt.UTC) - START).total_seconds()
                if t else np.nan
                for _, _, t in self.entries
            ]
        )

    def __len__(self) -> int:
        return len(self.entries)

    def posted_seconds(self, ks: np.ndarray, seed: int) -> np.ndarray:
        """Seconds after START for examples `ks` (deterministic per seed)."""
        rng = np.random.default_rng(seed)
        j = ks % len(self)
        uniform = rng.uniform(0, SPAN_DAYS * 86400.0, len(ks))
        burst = (self.centre[j] + rng.normal(0, 4, len(ks))) * 86400.0
        out = np.where(rng.random(len(ks)) < 0.6, uniform, burst)
        real = self.real[j]
        has_real = ~np.isnan(real)
        out[has_real] = real[has_real] + rng.uniform(-43200, 43200, has_real.sum())
        return np.clip(out, 0, SPAN_DAYS * 86400.0 - 1)

    def records(self, first: int, count: int, seed: int):
        """CSV records (dicts by COLUMNS) of examples first .. first + count - 1."""
        ks = np.arange(first, first + count, dtype=np.int64)
        seconds = self.posted_seconds(ks, seed)
        retweets = np.random.default_rng(seed + 1).geometric(0.05, len(ks)) - 1
        for k, s, rt in zip(ks.tolist(), seconds.tolist(), retweets.tolist(), strict=True):
            text = self.entries[k % len(self)][0]
            posted = START + dt.timedelta(seconds=int(s))
            yield {
                "id": str(k),
                "text": f"{text} #{k}",
                "created_at": posted.strftime("%Y-%m-%d %H:%M:%S"),
                "retweet_count": str(rt),
            }


def write_csv(pool: Pool, first: int, count: int, seed: int, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(pool.records(first, count, seed))


def row_builder(project):
    """The importer's RowBuilder for the corpus CSV columns (made before a COPY starts: it
    queries the project's labels, which the connection cannot do in the middle of a COPY)."""
    from annotator.importers.mapping import ColumnMapping, RowBuilder

    builder = RowBuilder(project, ColumnMapping(), "csv")
    builder.resolve(list(COLUMNS), 1, strict=True)
    return builder


def copy_rows(project, builder, pool: Pool, first: int, count: int, seed: int, checked: int = 50):
    """The COPY rows (annotator_example columns) the importer would store for these examples.
    Computed directly (normalise, hash, meta: three times faster than the importer's
    RowBuilder); the first `checked` rows of every call are built by the RowBuilder too and
    must come out identical."""
    from annotator.importers.readers import Record
    from annotator.normalize import content_hash, normalize

    rng = np.random.default_rng(seed + 2)
    keys = rng.random(count).tolist()
    now = dt.datetime.now(dt.UTC)
    mode = project.normalization
    for i, record in enumerate(pool.records(first, count, seed)):
        text = record["text"]
        normalized = normalize(text, mode)
        posted = dt.datetime.fromisoformat(record["created_at"]).replace(tzinfo=dt.UTC)
        meta = {"created_at": posted.isoformat(), "retweet_count": int(record["retweet_count"])}
        row = (project.pk, text, normalized, json.dumps(meta, ensure_ascii=False), record["id"],
               content_hash(normalized or text), "", keys[i], 0, posted, now)
        if i < checked:
            built = builder.build(Record(first + i + 2, record))
            expected = (built.text, built.normalized_text, built.meta, built.external_id,
                        built.content_hash)
            if expected != (text, normalized, meta, record["id"], row[5]):
                raise AssertionError(f"example {first + i}: {expected} != the row built here")
        yield row


EXAMPLE_COLUMNS = (
    "project_id, text, normalized_text, meta, external_id, content_hash, image, queue_key, "
    "assigned_count, posted_at, created_at"
)


def copy_examples(cur, rows) -> int:
    n = 0
    with cur.cursor.copy(f"COPY annotator_example ({EXAMPLE_COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def drop_indexes(table: str) -> None:
    """Drop `table`'s secondary indexes and unique constraints (not its primary key), keeping
    their definitions in the state table for `rebuild_indexes`."""
    from django.db import connection

    key = f"dropped:{table}"
    if state_get(key):
        return
    with connection.cursor() as cur:
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'u'", [table])
        constraints = cur.fetchall()
        cur.execute(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
            "AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = x.indexrelid)", [table])
        indexes = cur.fetchall()
        state_set(key, {"constraints": constraints, "indexes": indexes})
        for name, _ in constraints:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')


def rebuild_indexes(table: str) -> float:
    """Recreate what `drop_indexes` dropped; returns the seconds it took (0 if nothing)."""
    from django.db import connection

    key = f"dropped:{table}"
    dropped = state_get(key)
    if not dropped:
        return 0.0
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '1GB'")
        for name, definition in dropped["indexes"]:
            log(f"  building index {name}")
            cur.execute(definition.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
        for name, definition in dropped["constraints"]:
            log(f"  building constraint {name}")
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cur.execute("RESET maintenance_work_mem")
    state_set(key, None)
    return time.perf_counter() - t0


def fit_pool_scores(pool: Pool) -> None:
    """Table bench_corpus_pool(idx, scores, labels): the model's prediction of pool entry idx
    (TF-IDF + logistic regression per label, fitted on HatEval EN train)."""
    from django.db import connection
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from annotator.normalize import strip_tweet
    from bench._data import read_hateval

    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_corpus_pool') IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute("SELECT count(*) FROM bench_corpus_pool")
            if cur.fetchone()[0] == len(pool):
                return
    t0 = time.perf_counter()
    train = read_hateval("train")
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=100_000)
    x = vectorizer.fit_transform([item.text for item in train])
    pool_x = vectorizer.transform([strip_tweet(text) for text, _, _ in pool.entries])
    scores = np.zeros((len(pool), len(LABELS)))
    for j, label in enumerate(LABELS):
        y = np.array([label in item.labels for item in train])
        scores[:, j] = LogisticRegression(max_iter=1000).fit(x, y).predict_proba(pool_x)[:, 1]
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_corpus_pool")
        cur.execute("CREATE TABLE bench_corpus_pool (idx int PRIMARY KEY, scores jsonb, labels jsonb)")
        with cur.cursor.copy("COPY bench_corpus_pool FROM STDIN") as copy:
            for i, row in enumerate(scores.tolist()):
                copy.write_row((i, json.dumps(dict(zip(LABELS, row, strict=True))),
                                json.dumps([lab for lab, s in zip(LABELS, row, strict=True) if s >= 0.5])))
        cur.execute("ANALYZE bench_corpus_pool")
    log(f"pool scores: {len(pool)} texts scored in {time.perf_counter() - t0:.1f} s; positive "
        f"shares {dict(zip(LABELS, (scores >= 0.5).mean(axis=0).round(3).tolist(), strict=True))}")


def write_predictions(project, version, pool_size: int, batch: int) -> tuple[int, float]:
    """One Prediction per example of the project that has none, from its text's pool row, in
    id ranges of `batch`; each range is one INSERT ... SELECT (and one trigger run) and commits.
    Returns (rows written, seconds)."""
    from django.db import connection, transaction

    with connection.cursor() as cur:
        cur.execute("SELECT coalesce(max(example_id), 0) FROM models_zoo_prediction "
                    "WHERE model_version_id = %s", [version.pk])
        done_to = cur.fetchone()[0]
        cur.execute("SELECT max(id) FROM annotator_example WHERE project_id = %s", [project.pk])
        last = cur.fetchone()[0] or 0
    written, t0 = 0, time.perf_counter()
    start = done_to + 1
    while start <= last:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "INSERT INTO models_zoo_prediction (example_id, model_version_id, scores, labels, "
                "spans, created_at) SELECT e.id, %s, p.scores, p.labels, '[]'::jsonb, now() "
                "FROM annotator_example e JOIN bench_corpus_pool p "
                "ON p.idx = (e.external_id::bigint %% %s) "
                "WHERE e.project_id = %s AND e.id BETWEEN %s AND %s",
                [version.pk, pool_size, project.pk, start, start + batch - 1],
            )
            written += cur.rowcount
        start += batch
        log(f"  predictions: {written} written, {written / (time.perf_counter() - t0):.0f} rows/s")
    return written, time.perf_counter() - t0
