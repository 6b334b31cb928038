"""Images uploaded by a transaction that fails at COMMIT are deleted again (no orphan objects).

A DEFERRABLE INITIALLY DEFERRED constraint trigger on the examples table refuses any row whose
text holds MARKER, so the INSERT succeeds and the failure comes at COMMIT, after the images were
uploaded to the store. The tests are transactional (real COMMITs on PostgreSQL), and the store
is the real local store of the test (listed by prefix), nothing mocked.
"""
from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection

from annotator.images.uploads import atomic_uploads
from annotator.importers import import_file
from annotator.models import Example
from annotator.services.example_edits import create_example
from config.storage import get_storage
from tests.annotator.images.helpers import b64, jpeg, make_zip, png

pytestmark = pytest.mark.django_db(transaction=True)

MARKER = "REFUSED-AT-COMMIT"


@pytest.fixture
def refused_at_commit():
    """The examples table refuses MARKER texts at COMMIT (a deferred constraint trigger)."""
    table = connection.ops.quote_name(Example._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"""
            CREATE OR REPLACE FUNCTION vigia_test_refuse_marker() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.text LIKE '%{MARKER}%' THEN
                    RAISE EXCEPTION 'example % refused at commit', NEW.id
                        USING ERRCODE = 'check_violation';
                END IF;
                RETURN NULL;
            END $$;
            CREATE CONSTRAINT TRIGGER vigia_test_refuse_marker
                AFTER INSERT OR UPDATE ON {table}
                DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION vigia_test_refuse_marker();
        """)
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS vigia_test_refuse_marker ON {table};"
                       "DROP FUNCTION IF EXISTS vigia_test_refuse_marker();")


def objects_of(project) -> list[str]:
    return get_storage().list(f"examples/{project.pk}")


def test_a_zip_import_failing_at_commit_leaves_no_image_in_the_store(project, refused_at_commit):
    data = make_zip({
        "manifest.csv": f"text,image\nfine,img/a.png\n{MARKER},img/b.jpg\nalso fine,img/c.png\n",
        "img/a.png": png(), "img/b.jpg": jpeg(), "img/c.png": png((1, 2, 3)),
    })
    with pytest.raises(DatabaseError, match="refused at commit"):
        import_file(project, io.BytesIO(data), "zip")
    assert Example.objects.filter(project=project).count() == 0
    assert objects_of(project) == []

    # The same archive without the refused row commits, and its images stay.
    good = make_zip({"manifest.csv": "text,image\nfine,img/a.png\nalso fine,img/c.png\n",
                     "img/a.png": png(), "img/c.png": png((1, 2, 3))})
    assert import_file(project, io.BytesIO(good), "zip").imported == 2
    names = sorted(Example.objects.filter(project=project).values_list("image", flat=True))
    assert objects_of(project) == names and len(names) == 2


def test_a_jsonl_import_with_base64_images_failing_at_commit_leaves_no_image(project, refused_at_commit):
    lines = [{"text": "fine", "image": b64(png())}, {"text": MARKER, "image": b64(jpeg())}]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    with pytest.raises(DatabaseError, match="refused at commit"):
        import_file(project, io.BytesIO(data), "jsonl")
    assert Example.objects.filter(project=project).count() == 0
    assert objects_of(project) == []


def test_a_zip_import_over_rest_failing_at_commit_leaves_no_image(project, owner_api, refused_at_commit):
    owner_api.raise_request_exception = False
    data = make_zip({"manifest.csv": f"text,image\n{MARKER},a.png\nfine,b.png\n",
                     "a.png": png(), "b.png": png((9, 9, 9))})
    response = owner_api.post(f"/api/v1/projects/{project.pk}/import",
                              {"file": SimpleUploadedFile("memes.zip", data), "format": "zip"},
                              format="multipart")
    assert response.status_code >= 400
    assert Example.objects.filter(project=project).count() == 0
    assert objects_of(project) == []


def test_one_example_over_rest_failing_at_commit_leaves_no_image(project, owner_api, refused_at_commit):
    owner_api.raise_request_exception = False
    response = owner_api.post(
        f"/api/v1/projects/{project.pk}/examples/",
        {"text": MARKER, "image": SimpleUploadedFile("a.png", png(), content_type="image/png")},
        format="multipart",
    )
    assert response.status_code >= 400
    assert Example.objects.filter(project=project).count() == 0
    assert objects_of(project) == []
    ok = owner_api.post(
        f"/api/v1/projects/{project.pk}/examples/",
        {"text": "fine", "image": SimpleUploadedFile("a.png", png(), content_type="image/png")},
        format="multipart",
    )
    assert ok.status_code == 201
    assert objects_of(project) == [Example.objects.get(pk=ok.json()["id"]).image.name]


def test_an_inner_block_that_succeeded_is_undone_when_the_outer_transaction_fails_at_commit(
        project, refused_at_commit):
    def upload(text: str, data: bytes) -> Example:
        return create_example(project, text, image=SimpleUploadedFile("x.png", data))

    with pytest.raises(DatabaseError, match="refused at commit"), atomic_uploads():
        upload("first, fine on its own", png())
        upload(MARKER, png((5, 5, 5)))  # its savepoint succeeds; the COMMIT fails
        assert len(objects_of(project)) == 2
    assert Example.objects.filter(project=project).count() == 0
    assert objects_of(project) == []


def test_an_image_saved_on_the_model_inside_the_block_is_undone_too(project, refused_at_commit):
    from django.core.files.base import ContentFile

    with pytest.raises(DatabaseError, match="refused at commit"), atomic_uploads():
        example = Example.objects.create(project=project, text=MARKER, content_hash="x")
        example.image.save("a.png", ContentFile(png()), save=True)
        assert len(objects_of(project)) == 1
    assert objects_of(project) == []


def test_a_patch_of_the_image_failing_at_commit_keeps_the_old_image_and_stores_no_new_one(
        project, owner_api, refused_at_commit):
    from annotator.images.thumbnails import thumbnail_key

    owner_api.raise_request_exception = False
    url = f"/api/v1/projects/{project.pk}/examples/"
    body = owner_api.post(url, {"text": "fine", "image": SimpleUploadedFile("a.png", png())},
                          format="multipart").json()
    old = Example.objects.get(pk=body["id"]).image.name
    assert owner_api.get(body["thumbnail"]).status_code == 200
    storage = get_storage()
    assert storage.exists(thumbnail_key(old))

    response = owner_api.patch(f"{url}{body['id']}/",
                               {"text": MARKER, "image": SimpleUploadedFile("b.jpg", jpeg())},
                               format="multipart")
    assert response.status_code >= 400
    example = Example.objects.get(pk=body["id"])
    assert (example.text, example.image.name) == ("fine", old)
    assert objects_of(project) == [old]  # the new image is gone, the old one kept
    assert storage.exists(thumbnail_key(old))
    assert b"".join(owner_api.get(body["image"]).streaming_content) == png()

    # Committed for real: the old image and its thumbnail go, the new one stays.
    response = owner_api.patch(f"{url}{body['id']}/", {"image": SimpleUploadedFile("b.jpg", jpeg())},
                               format="multipart")
    assert response.status_code == 200, response.content
    new = Example.objects.get(pk=body["id"]).image.name
    assert objects_of(project) == [new] and new != old
    assert not storage.exists(thumbnail_key(old))
