"""Daily prediction counts for the prevalence index (issue 21): PredictionDay (per version and
UTC day: predictions of examples posted that day) and PredictionDayLabel (those labelled
positive, per label), kept by triggers so that every statement that writes, re-writes or
deletes Prediction rows, or moves an example's posted_at, updates them in its own transaction.

- Prediction INSERT / UPDATE / DELETE: statement-level AFTER triggers with transition tables
  (one grouped delta per statement, not one per row). An INSERT ... ON CONFLICT DO UPDATE fires
  both: the INSERT trigger sees the inserted rows, the UPDATE trigger the updated ones
  (old labels out, new labels in).
- annotator_example posted_at: a row trigger that fires only when the value changes (edits of
  one example's meta), moving that example's predictions to their new day.

`vigia_index_apply` upserts the grouped deltas in key order (so concurrent chunks lock the
aggregate rows in one order and cannot deadlock), then drops rows that reached zero. Each
label row also keeps `top`, the 3 best-scored predictions labelled positive that day (the
peaks' examples), merged from each statement's new rows; a prediction leaving the key makes it
NULL (unknown), and the index then recounts that day. The last operation fills the tables
from the predictions already stored.
"""
import django.db.models.deletion
from django.db import migrations, models

# The set of keys a prediction counts under: NULL (the day's total) and each distinct label
# string (what `labels @> '["HS"]'` matches).
KEYS = """
CREATE FUNCTION vigia_index_keys(labels jsonb) RETURNS SETOF text
LANGUAGE sql IMMUTABLE AS $$
    SELECT NULL::text
    UNION
    SELECT e #>> '{}'
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(labels) = 'array' THEN labels
                                   ELSE '[]'::jsonb END) AS e
    WHERE jsonb_typeof(e) = 'string'
$$;
CREATE FUNCTION vigia_index_score(scores jsonb, label text) RETURNS float8
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(scores -> label) = 'number' THEN (scores ->> label)::float8 END
$$;
-- The 3 best of two top lists ([score, example id] pairs), best first, ties by example id.
CREATE FUNCTION vigia_index_top(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_agg(e ORDER BY (e ->> 0)::float8 DESC NULLS LAST, (e ->> 1)::bigint),
                    '[]'::jsonb)
    FROM (SELECT e FROM jsonb_array_elements(a || b) AS e
          ORDER BY (e ->> 0)::float8 DESC NULLS LAST, (e ->> 1)::bigint LIMIT 3) AS s
$$;
"""

# Deltas arrive grouped by key (version, day, label or NULL for the total): the count change,
# and for label keys the new top candidates, or NULL when a prediction left the key (it may
# have been among the top: the top is unknown until the index recounts that day).
APPLY = """
CREATE FUNCTION vigia_index_apply(vs bigint[], ds date[], ls text[], cs bigint[], tops jsonb[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO models_zoo_predictionday AS a (model_version_id, day, n)
    SELECT v, d, c FROM unnest(vs, ds, ls, cs) AS u(v, d, l, c)
    WHERE l IS NULL AND c <> 0 ORDER BY v, d
    ON CONFLICT (model_version_id, day) DO UPDATE SET n = a.n + excluded.n;
    INSERT INTO models_zoo_predictiondaylabel AS a (model_version_id, label, day, positive, top)
    SELECT v, l, d, c, t FROM unnest(vs, ds, ls, cs, tops) AS u(v, d, l, c, t)
    WHERE l IS NOT NULL ORDER BY v, l, d
    ON CONFLICT (model_version_id, label, day) DO UPDATE SET
        positive = a.positive + excluded.positive,
        top = CASE WHEN a.top IS NULL OR excluded.top IS NULL THEN NULL
                   ELSE vigia_index_top(a.top, excluded.top) END;
    IF EXISTS (SELECT 1 FROM unnest(cs) AS c WHERE c < 0) THEN
        DELETE FROM models_zoo_predictionday a USING unnest(vs, ds, ls, cs) AS u(v, d, l, c)
        WHERE u.l IS NULL AND u.c < 0 AND a.model_version_id = u.v AND a.day = u.d AND a.n <= 0;
        DELETE FROM models_zoo_predictiondaylabel a USING unnest(vs, ds, ls, cs) AS u(v, d, l, c)
        WHERE u.c < 0 AND a.model_version_id = u.v AND a.label = u.l AND a.day = u.d
          AND a.positive <= 0;
    END IF;
END
$$;
"""


def _apply(rows: str) -> str:
    """PERFORM vigia_index_apply on the grouped deltas of `rows`, a query of (model_version_id,
    example_id, labels, scores, posted_at, sign) with sign +1 for a prediction counted now
    and -1 for one not counted any more."""
    score = "vigia_index_score(r.scores, k.l)"
    return f"""
    PERFORM vigia_index_apply(array_agg(v), array_agg(d), array_agg(l), array_agg(c),
                              array_agg(top))
    FROM (
        SELECT r.model_version_id AS v, (r.posted_at AT TIME ZONE 'UTC')::date AS d, k.l,
               sum(r.sign)::bigint AS c,
               CASE WHEN bool_or(r.sign < 0) THEN NULL
                    ELSE to_jsonb((array_agg(jsonb_build_array({score}, r.example_id)
                                   ORDER BY {score} DESC NULLS LAST, r.example_id))[1:3]) END
                   AS top
        FROM ({rows}) AS r
        CROSS JOIN LATERAL vigia_index_keys(r.labels) AS k(l)
        WHERE r.posted_at IS NOT NULL
        GROUP BY 1, 2, 3
        HAVING sum(r.sign) <> 0 OR (k.l IS NOT NULL AND bool_or(r.sign < 0))
    ) AS q
    HAVING count(*) > 0;"""


def _statement_trigger(event: str, rows: str) -> str:
    """A statement-level trigger function on models_zoo_prediction over its transition rows."""
    return f"""
CREATE FUNCTION vigia_index_predictions_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN{_apply(rows)}
    RETURN NULL;
END
$$;
"""


def _transition(table: str, sign: int) -> str:
    return (
        f"SELECT t.model_version_id, t.example_id, t.labels, t.scores, e.posted_at, {sign} AS sign "
        f"FROM {table} t JOIN annotator_example e ON e.id = t.example_id"
    )


INSERTED = _statement_trigger("insert", _transition("new_rows", 1))
DELETED = _statement_trigger("delete", _transition("old_rows", -1))
UPDATED = _statement_trigger(
    "update", _transition("old_rows", -1) + " UNION ALL " + _transition("new_rows", 1)
)
MOVED = f"""
CREATE FUNCTION vigia_index_example_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN{_apply(
    "SELECT p.model_version_id, p.example_id, p.labels, p.scores, t.posted_at, t.sign "
    "FROM models_zoo_prediction p "
    "CROSS JOIN (VALUES (OLD.posted_at, -1), (NEW.posted_at, 1)) AS t(posted_at, sign) "
    "WHERE p.example_id = NEW.id"
)}
    RETURN NULL;
END
$$;
"""

TRIGGERS = """
CREATE TRIGGER vigia_index_predictions_insert AFTER INSERT ON models_zoo_prediction
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION vigia_index_predictions_insert();
CREATE TRIGGER vigia_index_predictions_update AFTER UPDATE ON models_zoo_prediction
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION vigia_index_predictions_update();
CREATE TRIGGER vigia_index_predictions_delete AFTER DELETE ON models_zoo_prediction
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION vigia_index_predictions_delete();
CREATE TRIGGER vigia_index_example_moved AFTER UPDATE OF posted_at ON annotator_example
    FOR EACH ROW WHEN (OLD.posted_at IS DISTINCT FROM NEW.posted_at)
    EXECUTE FUNCTION vigia_index_example_moved();
"""

DROP = """
DROP TRIGGER IF EXISTS vigia_index_example_moved ON annotator_example;
DROP TRIGGER IF EXISTS vigia_index_predictions_delete ON models_zoo_prediction;
DROP TRIGGER IF EXISTS vigia_index_predictions_update ON models_zoo_prediction;
DROP TRIGGER IF EXISTS vigia_index_predictions_insert ON models_zoo_prediction;
DROP FUNCTION IF EXISTS vigia_index_example_moved();
DROP FUNCTION IF EXISTS vigia_index_predictions_delete();
DROP FUNCTION IF EXISTS vigia_index_predictions_update();
DROP FUNCTION IF EXISTS vigia_index_predictions_insert();
DROP FUNCTION IF EXISTS vigia_index_apply(bigint[], date[], text[], bigint[], jsonb[]);
DROP FUNCTION IF EXISTS vigia_index_top(jsonb, jsonb);
DROP FUNCTION IF EXISTS vigia_index_score(jsonb, text);
DROP FUNCTION IF EXISTS vigia_index_keys(jsonb);
"""

# The predictions stored before this migration.
BACKFILL = """
INSERT INTO models_zoo_predictionday (model_version_id, day, n)
SELECT p.model_version_id, (e.posted_at AT TIME ZONE 'UTC')::date, count(*)
FROM models_zoo_prediction p JOIN annotator_example e ON e.id = p.example_id
WHERE e.posted_at IS NOT NULL GROUP BY 1, 2;
INSERT INTO models_zoo_predictiondaylabel (model_version_id, label, day, positive, top)
SELECT v, l, d, count(*),
       to_jsonb((array_agg(jsonb_build_array(s, id) ORDER BY s DESC NULLS LAST, id))[1:3])
FROM (SELECT p.model_version_id AS v, k.l, (e.posted_at AT TIME ZONE 'UTC')::date AS d,
             vigia_index_score(p.scores, k.l) AS s, p.example_id AS id
      FROM models_zoo_prediction p JOIN annotator_example e ON e.id = p.example_id
      CROSS JOIN LATERAL vigia_index_keys(p.labels) AS k(l)
      WHERE e.posted_at IS NOT NULL AND k.l IS NOT NULL) AS x
GROUP BY v, l, d;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('models_zoo', '0005_artifact_storage_keys'),
        ('annotator', '0011_rare_positives_cold_start'),
    ]

    operations = [
        migrations.CreateModel(
            name='PredictionDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('n', models.BigIntegerField()),
                ('model_version', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='models_zoo.modelversion')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('model_version', 'day'), name='prediction_day_unique')],
            },
        ),
        migrations.CreateModel(
            name='PredictionDayLabel',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('label', models.CharField(max_length=100)),
                ('day', models.DateField()),
                ('positive', models.BigIntegerField()),
                ('top', models.JSONField(null=True)),
                ('model_version', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='models_zoo.modelversion')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('model_version', 'label', 'day'), name='prediction_day_label_unique')],
            },
        ),
        migrations.RunSQL(KEYS + APPLY + INSERTED + UPDATED + DELETED + MOVED + TRIGGERS, DROP),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
