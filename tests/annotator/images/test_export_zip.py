"""`GET /projects/{id}/export?format=zip`: manifest + images, and it imports back unchanged."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotator.importers import import_file
from annotator.models import Example
from annotator.services.projects import create_project
from config.storage import get_storage
from tests.annotator.images.helpers import jpeg, make_zip, png

pytestmark = pytest.mark.django_db


def test_export_zip_round_trips_through_import(project, owner, owner_api):
    source = make_zip({
        "manifest.csv": "id,text,image,labels\nm1,flood in town,a.png,HS\nm2,,b.jpg,TR|AG\nm3,text only,,\n",
        "a.png": png(), "b.jpg": jpeg(),
    })
    assert import_file(project, io.BytesIO(source), "zip").imported == 3
    response = owner_api.get(f"/api/v1/projects/{project.pk}/export?format=zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        records = [json.loads(line) for line in archive.read("manifest.jsonl").splitlines()]
        assert [r["id"] for r in records] == ["m1", "m2", "m3"]
        assert "image" not in records[2]
        assert archive.read(records[0]["image"]) == png() and archive.read(records[1]["image"]) == jpeg()

    other = create_project(creator=owner, name="copy", task_type=project.task_type,
                           labels=list(project.labels.values_list("name", flat=True)))
    response = owner_api.post(f"/api/v1/projects/{other.pk}/import",
                              {"file": SimpleUploadedFile("export.zip", data), "format": "zip"}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["imported"] == 3

    def summary(p):
        rows = []
        for e in Example.objects.filter(project=p).order_by("external_id"):
            image = get_storage().get_file(e.image.name).read_bytes() if e.image else None
            labels = sorted(a.labels for a in e.annotations.all())
            rows.append((e.external_id, e.text, image, e.image_width, e.image_height, labels, e.content_hash))
        return rows

    assert summary(other) == summary(project)



def test_an_example_whose_image_file_is_gone_is_exported_without_it(project, owner_api):
    assert import_file(project, io.BytesIO(make_zip({"manifest.csv": "text,image\na,a.png\nb,b.jpg\n",
                                                      "a.png": png(), "b.jpg": jpeg()})), "zip").imported == 2
    lost = Example.objects.get(project=project, text="a")
    get_storage().delete(lost.image.name)
    response = owner_api.get(f"/api/v1/projects/{project.pk}/export?format=zip")
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        records = [json.loads(line) for line in archive.read("manifest.jsonl").splitlines()]
        assert "image" not in records[0] and archive.read(records[1]["image"]) == jpeg()
