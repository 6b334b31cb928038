"""Embedding shards in the shared storage (issue 21): chunks and sets record their stored shards.

Chunks stored before keep their shard name `chunk-<id>` (an empty `shard` means that name, read
without a checksum). A set merged before recorded its merged shard in a `merged.json` beside the
shards; on a local store it is copied onto the set's row here, so those sets keep reading one
file (elsewhere the set reads its chunk shards until it is merged again).
"""
import json
from pathlib import Path

from django.conf import settings
from django.db import migrations, models


def merged_manifests_to_rows(apps, schema_editor):
    from config.storage import parse_storage_url

    scheme, root = parse_storage_url(settings.VIGIA_STORAGE_URL)
    if scheme != "file":
        return
    EmbeddingSet = apps.get_model("annotator", "EmbeddingSet")
    for embedding_set in EmbeddingSet.objects.all().iterator():
        directory = Path(root) / "embeddings" / str(embedding_set.project_id) / str(embedding_set.pk)
        try:
            manifest = json.loads((directory / "merged.json").read_text())
            merged = {"name": str(manifest["name"]), "chunks": [int(c) for c in manifest["chunks"]],
                      "deletions": int(manifest["deletions"])}
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if (directory / f"{merged['name']}.ids.npy").is_file():
            EmbeddingSet.objects.filter(pk=embedding_set.pk).update(merged=merged)


class Migration(migrations.Migration):

    dependencies = [
        ("annotator", "0009_worker_heartbeat"),
    ]

    operations = [
        migrations.AddField(
            model_name="embeddingchunk",
            name="shard",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="embeddingset",
            name="merged",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(merged_manifests_to_rows, migrations.RunPython.noop),
    ]
