"""The data browser's indexes:

- example_text_fts: GIN over to_tsvector('simple', text), the expression
  annotator.services.browse uses for full-text search ('simple': no stemming or stop words,
  the tweets are in several languages);
- example_meta_gin: GIN (jsonb_path_ops) over meta, for the key=value containment filter;
- example_posted_desc: (project, posted_at DESC NULLS LAST, id DESC) for "newest first".
"""
from django.db import migrations

CREATE = [
    "CREATE INDEX IF NOT EXISTS example_text_fts ON annotator_example "
    "USING gin (to_tsvector('simple', text))",
    "CREATE INDEX IF NOT EXISTS example_meta_gin ON annotator_example "
    "USING gin (meta jsonb_path_ops)",
    # "Newest first" with undated examples last: the btree (project, posted_at) cannot serve
    # DESC NULLS LAST, and sorting a million rows per page would be 0.7 s.
    "CREATE INDEX IF NOT EXISTS example_posted_desc ON annotator_example "
    "(project_id, posted_at DESC NULLS LAST, id DESC)",
]
DROP = ["DROP INDEX IF EXISTS example_text_fts", "DROP INDEX IF EXISTS example_meta_gin",
        "DROP INDEX IF EXISTS example_posted_desc"]


class Migration(migrations.Migration):
    dependencies = [("annotator", "0006_merge_active_learning")]

    operations = [migrations.RunSQL(CREATE, DROP)]
