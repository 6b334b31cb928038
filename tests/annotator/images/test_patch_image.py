"""PATCH of one example's image over REST: replace (multipart), remove (`""` or JSON null),
the checks of POST, duplicates (409), roles, and the old objects removed only after COMMIT."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from annotator.images.thumbnails import thumbnail_key
from annotator.models import Example
from config.storage import get_storage
from tests.annotator.images.helpers import jpeg, png

pytestmark = pytest.mark.django_db


def examples_url(project) -> str:
    return f"/api/v1/projects/{project.pk}/examples/"


def detail_url(project, pk: int) -> str:
    return f"{examples_url(project)}{pk}/"


def upload(data: bytes, name: str = "new.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


def post(api, project, data: bytes | None, text: str | None = "a meme") -> dict:
    body: dict = {}
    if data is not None:
        body["image"] = upload(data, "old.png")
    if text is not None:
        body["text"] = text
    response = api.post(examples_url(project), body, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def served(api, url: str) -> bytes:
    response = api.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def objects_of(project) -> list[str]:
    return get_storage().list(f"examples/{project.pk}")


def test_patch_replaces_the_image_and_removes_the_old_one_after_commit(
        project, owner_api, annotator_api, django_capture_on_commit_callbacks):
    body = post(owner_api, project, png(size=(30, 20)))
    old = Example.objects.get(pk=body["id"]).image.name
    served(owner_api, body["thumbnail"])  # the old thumbnail is made and kept
    storage = get_storage()
    assert storage.exists(thumbnail_key(old))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_api.patch(detail_url(project, body["id"]),
                                   {"image": upload(jpeg(size=(600, 150)), "new.jpg")}, format="multipart")
        assert response.status_code == 200, response.content
        # Not committed yet: the old image and its thumbnail are still in the store.
        assert storage.exists(old) and storage.exists(thumbnail_key(old))
    assert callbacks
    for callback in callbacks:
        callback()
    example = Example.objects.get(pk=body["id"])
    new = example.image.name
    assert new != old and new.endswith(".jpg")
    assert not storage.exists(old) and not storage.exists(thumbnail_key(old))
    assert objects_of(project) == [new]
    assert (example.image_width, example.image_height) == (600, 150)
    assert response.json()["image_width"] == 600 and example.text == "a meme"
    assert served(annotator_api, response.json()["image"]) == jpeg(size=(600, 150))
    with Image.open(io.BytesIO(served(annotator_api, response.json()["thumbnail"]))) as thumb:
        assert thumb.size == (256, 64)  # made from the new image


def test_patch_image_with_a_new_text_and_the_dedupe_key_follows_the_image(project, owner_api):
    first = post(owner_api, project, png(), text="caption")
    second = post(owner_api, project, png((1, 2, 3)), text="caption")  # same text, another image
    # Giving the second the first's image (same text, same bytes) is a duplicate: 409.
    response = owner_api.patch(detail_url(project, second["id"]), {"image": upload(png())}, format="multipart")
    assert response.status_code == 409 and response.json()["existing_id"] == first["id"]
    assert served(owner_api, second["image"]) == png((1, 2, 3))
    # Another text with it is another example.
    response = owner_api.patch(detail_url(project, second["id"]),
                               {"image": upload(png()), "text": "another caption"}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["text"] == "another caption"
    assert served(owner_api, response.json()["image"]) == png()


@pytest.mark.parametrize("how", ["multipart-empty", "json-null", "json-empty"])
def test_patch_removes_the_image_of_an_example_with_text(project, owner_api, how,
                                                         django_capture_on_commit_callbacks):
    body = post(owner_api, project, png(), text="keeps its text")
    old = Example.objects.get(pk=body["id"]).image.name
    with django_capture_on_commit_callbacks(execute=True):
        if how == "multipart-empty":
            response = owner_api.patch(detail_url(project, body["id"]), {"image": ""}, format="multipart")
        else:
            value = None if how == "json-null" else ""
            response = owner_api.patch(detail_url(project, body["id"]), {"image": value}, format="json")
    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["image"], result["thumbnail"], result["image_width"], result["image_height"]) == (
        None, None, None, None)
    example = Example.objects.get(pk=body["id"])
    assert example.image.name == "" and example.text == "keeps its text"
    assert not get_storage().exists(old) and objects_of(project) == []
    # Without its image it is a text example: the same text again is a duplicate.
    again = owner_api.post(examples_url(project), {"text": "keeps its text"}, format="json")
    assert again.status_code == 409


def test_an_image_only_example_cannot_lose_its_image(project, owner_api):
    body = post(owner_api, project, png(), text=None)
    response = owner_api.patch(detail_url(project, body["id"]), {"image": None}, format="json")
    assert response.status_code == 400
    assert "needs a text or an image" in response.json()["image"][0]
    assert served(owner_api, body["image"]) == png()
    # With a text sent beside it, it may.
    response = owner_api.patch(detail_url(project, body["id"]), {"image": None, "text": "now a text"},
                               format="json")
    assert response.status_code == 200 and response.json()["image"] is None


def test_a_bad_image_is_a_400_naming_field_and_reason_and_the_old_image_stays(project, owner_api, settings):
    body = post(owner_api, project, png())
    old = Example.objects.get(pk=body["id"]).image.name
    response = owner_api.patch(detail_url(project, body["id"]),
                               {"image": upload(b"GIF89a-not-really", "x.gif")}, format="multipart")
    assert response.status_code == 400
    assert response.json()["image"][0].startswith("file 'x.gif': not an image Pillow can read")
    settings.VIGIA_MAX_IMAGE_PIXELS = 10
    response = owner_api.patch(detail_url(project, body["id"]), {"image": upload(png(size=(8, 6)))},
                               format="multipart")
    assert response.status_code == 400 and "VIGIA_MAX_IMAGE_PIXELS=10" in response.json()["image"][0]
    settings.VIGIA_MAX_IMAGE_PIXELS = 40_000_000
    settings.VIGIA_MAX_IMAGE_BYTES = 10
    response = owner_api.patch(detail_url(project, body["id"]), {"image": upload(png())}, format="multipart")
    assert response.status_code == 400 and "VIGIA_MAX_IMAGE_BYTES=10" in response.json()["image"][0]
    assert Example.objects.get(pk=body["id"]).image.name == old
    assert objects_of(project) == [old]
    assert served(owner_api, body["image"]) == png()


def test_only_admins_may_change_the_image(project, owner_api, annotator_api, viewer_api, outsider_api):
    body = post(owner_api, project, png())
    old = Example.objects.get(pk=body["id"]).image.name
    for api, status in ((annotator_api, 403), (viewer_api, 403), (outsider_api, 404)):
        response = api.patch(detail_url(project, body["id"]), {"image": upload(jpeg())}, format="multipart")
        assert response.status_code == status, response.content
        response = api.patch(detail_url(project, body["id"]), {"image": None}, format="json")
        assert response.status_code == status, response.content
    assert Example.objects.get(pk=body["id"]).image.name == old
    assert objects_of(project) == [old]


def test_a_text_example_gets_an_image(project, owner_api):
    body = post(owner_api, project, None, text="plain text")
    response = owner_api.patch(detail_url(project, body["id"]), {"image": upload(png())}, format="multipart")
    assert response.status_code == 200, response.content
    assert served(owner_api, response.json()["image"]) == png()
    assert len(objects_of(project)) == 1
