# Example images get unguessable names (examples/<project>/<random token>.<ext>) and are served
# to project members only (issue 20); images stored before are moved to such names.

from django.db import migrations, models

import annotator.media


def rename_existing_images(apps, schema_editor):
    from django.core.files.storage import default_storage

    Example = apps.get_model("annotator", "Example")
    for example in Example.objects.exclude(image="").iterator():
        old = example.image.name
        if not default_storage.exists(old):
            continue
        new = annotator.media.example_image_name(example, old)
        with default_storage.open(old, "rb") as handle:
            saved = default_storage.save(new, handle)
        Example.objects.filter(pk=example.pk).update(image=saved)
        default_storage.delete(old)


class Migration(migrations.Migration):

    dependencies = [
        ('annotator', '0012_example_deletions_trigger'),
    ]

    operations = [
        migrations.AlterField(
            model_name='example',
            name='image',
            field=models.FileField(blank=True, upload_to=annotator.media.example_image_name),
        ),
        migrations.RunPython(rename_existing_images, migrations.RunPython.noop),
    ]
