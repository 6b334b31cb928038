# Example images live in the shared store (VIGIA_STORAGE_URL: a path or s3://), where model
# artifacts live, so every host reads them (issue 23); images in MEDIA_ROOT move there, and each
# image's width and height are recorded.

from django.db import migrations, models

import annotator.images.storage
import annotator.media


def move_images_to_shared_store(apps, schema_editor):
    import io

    from django.core.files.storage import default_storage

    from config.storage import get_storage

    Example = apps.get_model("annotator", "Example")
    store = get_storage()
    for example in Example.objects.exclude(image="").iterator():
        name = example.image.name
        width = height = None
        try:
            if default_storage.exists(name):
                with default_storage.open(name, "rb") as handle:
                    data = handle.read()
                store.put_bytes(data, name)
                default_storage.delete(name)
            else:
                data = store.get_file(name).read_bytes()
            from PIL import Image

            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
        except Exception:  # a missing or unreadable image keeps its name and no size
            pass
        Example.objects.filter(pk=example.pk).update(image_width=width, image_height=height)


class Migration(migrations.Migration):

    dependencies = [
        ('annotator', '0013_example_image_random_name'),
    ]

    operations = [
        migrations.AddField(
            model_name='example',
            name='image_height',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='example',
            name='image_width',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='example',
            name='image',
            field=models.FileField(blank=True, storage=annotator.images.storage.image_storage,
                                   upload_to=annotator.media.example_image_name),
        ),
        migrations.RunPython(move_images_to_shared_store, migrations.RunPython.noop),
    ]
