"""Images live in the shared store: on S3 (moto) an import, the image and thumbnail views and a
delete work from the bucket; another host (an empty cache) reads the same image; the migration
moves images from MEDIA_ROOT into the store with their sizes; more archive refusals."""
from __future__ import annotations

import io
import shutil
import zipfile

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from annotator.images.thumbnails import thumbnail_key
from annotator.importers import ImportFailed, import_file
from annotator.models import Example
from config.storage import get_storage
from tests.annotator.images.helpers import jpeg, make_zip, png

pytestmark = pytest.mark.django_db


def test_images_on_s3_are_imported_served_and_deleted(s3_store, project, owner_api, django_capture_on_commit_callbacks):
    data = make_zip({"manifest.csv": "text,image\nhello,a.png\n", "a.png": png(size=(40, 30))})
    assert import_file(project, io.BytesIO(data), "zip").imported == 1
    example = Example.objects.get(project=project)
    storage = get_storage()
    assert not storage.is_local and storage.exists(example.image.name)
    shutil.rmtree(settings.VIGIA_CACHE_DIR, ignore_errors=True)  # another host: nothing cached
    base = f"/api/v1/projects/{project.pk}/examples/{example.pk}"
    image = owner_api.get(f"{base}/image")
    assert image.status_code == 200 and b"".join(image.streaming_content) == png(size=(40, 30))
    assert owner_api.get(f"{base}/thumbnail").status_code == 200
    assert storage.exists(thumbnail_key(example.image.name))
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_api.delete(f"{base}/").status_code == 204
    assert not storage.exists(example.image.name) and not storage.exists(thumbnail_key(example.image.name))


def test_a_refused_import_on_s3_leaves_nothing_in_the_bucket(s3_store, project):
    data = make_zip({"manifest.csv": "text,image\na,a.png\nb,b.png\n", "a.png": png(), "b.png": b"broken"})
    with pytest.raises(ImportFailed):
        import_file(project, io.BytesIO(data), "zip")
    assert [k for k in get_storage().list() if k.startswith("examples/")] == []


def test_the_migration_moves_media_root_images_into_the_store(project):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("annotator.migrations.0014_example_image_shared_store")
    name = f"examples/{project.pk}/old-token.jpg"
    default_storage.save(name, ContentFile(jpeg(size=(24, 18))))
    example = Example.objects.create(project=project, text="old", content_hash="x" * 64, image=name)
    migration.move_images_to_shared_store(apps, None)
    example.refresh_from_db()
    assert (example.image_width, example.image_height) == (24, 18)
    assert get_storage().get_file(name).read_bytes() == jpeg(size=(24, 18))
    assert not default_storage.exists(name)


def test_duplicate_names_and_encrypted_entries_are_refused(project):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, pytest.warns(UserWarning):
        archive.writestr("manifest.csv", "text,image\nx,a.png\n")
        archive.writestr("a.png", png())
        archive.writestr("a.png", jpeg())
    with pytest.raises(ImportFailed, match="appears twice"):
        import_file(project, io.BytesIO(buffer.getvalue()), "zip")
    data = bytearray(make_zip({"manifest.csv": "text,image\nx,a.png\n", "a.png": png()}))
    entry = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 4)  # a.png's central entry
    data[entry + 8] |= 0x1  # general purpose flag bit 0: encrypted
    with pytest.raises(ImportFailed, match="encrypted"):
        import_file(project, io.BytesIO(bytes(data)), "zip")
    assert not Example.objects.exists()
