"""EmbeddingSet.deletions counted by one statement-level trigger (issue 21): a DELETE of N
examples adds N to their projects' sets in that statement (one grouped UPDATE), instead of a
post_delete receiver running one UPDATE per example (500k UPDATEs to delete a 500k project).
Any path that deletes examples (the ORM's cascades, bulk deletes, raw SQL) is counted, in the
deleting transaction as before."""
from django.db import migrations

CREATE = """
CREATE FUNCTION vigia_count_example_deletions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE annotator_embeddingset s SET deletions = s.deletions + d.n
    FROM (SELECT project_id, count(*) AS n FROM old_rows GROUP BY project_id) AS d
    WHERE s.project_id = d.project_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER vigia_count_example_deletions AFTER DELETE ON annotator_example
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION vigia_count_example_deletions();
"""
DROP = """
DROP TRIGGER IF EXISTS vigia_count_example_deletions ON annotator_example;
DROP FUNCTION IF EXISTS vigia_count_example_deletions();
"""


class Migration(migrations.Migration):
    dependencies = [("annotator", "0011_rare_positives_cold_start")]

    operations = [migrations.RunSQL(CREATE, DROP)]
