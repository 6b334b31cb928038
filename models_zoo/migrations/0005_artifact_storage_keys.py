"""Versions refer to their artifact by storage key (issue 21).

An `artifact_dir` that is an absolute path under the former artifacts directory
(`VIGIA_ARTIFACTS_DIR`, by default `$VIGIA_VAR_DIR/artifacts`, which is also the default store)
becomes the key relative to it, and the directory gets its manifest and checksum. When the store
is elsewhere (a new `VIGIA_STORAGE_URL`, e.g. S3) the directory is uploaded there too. Paths
outside that directory are left as they are and listed: their versions cannot be loaded until
their artifact is stored and the key recorded.
"""
import os
from pathlib import Path

from django.conf import settings
from django.db import migrations, models


def _old_root() -> Path:
    configured = os.environ.get("VIGIA_ARTIFACTS_DIR")
    base = Path(configured) if configured else Path(settings.VAR_DIR) / "artifacts"
    return base.expanduser().resolve()


def paths_to_keys(apps, schema_editor):
    from config.storage import Storage

    ModelVersion = apps.get_model("models_zoo", "ModelVersion")
    root = _old_root()
    storage = Storage(settings.VIGIA_STORAGE_URL, settings.VIGIA_CACHE_DIR)
    in_place = storage.is_local and Path(storage.root) == root
    left = []
    for version in ModelVersion.objects.filter(artifact_dir__startswith="/").iterator():
        path = Path(version.artifact_dir)
        try:
            key = path.resolve().relative_to(root).as_posix()
        except ValueError:
            left.append(f"{version.pk}: {version.artifact_dir}")
            continue
        checksum = ""
        if path.is_dir():
            if in_place:
                checksum = storage.seal_dir(key)
            else:
                checksum = storage.put_dir(path, key)
        ModelVersion.objects.filter(pk=version.pk).update(artifact_dir=key, artifact_checksum=checksum)
    if left:
        print(f"\n  model versions whose artifact is outside {root} (not converted): " + "; ".join(left))


def keys_to_paths(apps, schema_editor):
    ModelVersion = apps.get_model("models_zoo", "ModelVersion")
    root = _old_root()
    for version in ModelVersion.objects.exclude(artifact_dir__startswith="/").iterator():
        ModelVersion.objects.filter(pk=version.pk).update(artifact_dir=str(root / version.artifact_dir))


class Migration(migrations.Migration):

    dependencies = [
        ("models_zoo", "0004_prediction_confidence"),
    ]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="artifact_checksum",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(paths_to_keys, keys_to_paths),
    ]
