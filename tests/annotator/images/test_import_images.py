"""Importing images: ZIP archives with a manifest, JSONL with base64, every refusal storing
nothing (no rows, no image files)."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.conf import settings

from annotator.importers import ImportFailed, import_file
from annotator.models import Example
from config.storage import get_storage
from tests.annotator.images.helpers import b64, jpeg, make_zip, png, stored_image_keys

pytestmark = pytest.mark.django_db


def store_root() -> Path:
    return Path(settings.VIGIA_STORAGE_URL)


def run(project, data: bytes, fmt: str = "zip", **kw):
    return import_file(project, io.BytesIO(data), fmt, **kw)


def test_a_zip_with_a_csv_manifest_imports_images_texts_and_labels(project):
    data = make_zip({
        "manifest.csv": "text,image,labels\nflooded street,img/a.png,HS\n,img/b.jpg,TR\nno picture,,AG\n",
        "img/a.png": png(), "img/b.jpg": jpeg(),
    })
    result = run(project, data)
    assert (result.imported, result.duplicates) == (3, 0)
    a, b, c = Example.objects.filter(project=project).order_by("id")
    assert a.text == "flooded street" and (a.image_width, a.image_height) == (8, 6)
    assert b.text == "" and (b.image_width, b.image_height) == (16, 12)  # image-only row
    assert c.image.name == "" and c.image_width is None  # text-only row
    assert a.image.name.startswith(f"examples/{project.pk}/") and a.image.name.endswith(".png")
    assert get_storage().get_file(a.image.name).read_bytes() == png()
    assert a.annotations.get().labels == ["HS"] and b.annotations.get().labels == ["TR"]
    assert "image" not in a.meta
    assert len(stored_image_keys(store_root())) == 2


def test_a_zip_with_a_jsonl_manifest_and_duplicates_by_image_hash(project):
    manifest = "\n".join(json.dumps(r) for r in [
        {"text": "same", "image": "a.png"},
        {"text": "same", "image": "copy-of-a.png"},  # same text, same image bytes: a duplicate
        {"text": "same", "image": "c.png"},  # same text, another image: another example
    ])
    data = make_zip({"data.jsonl": manifest, "a.png": png(), "copy-of-a.png": png(), "c.png": png((1, 2, 3))})
    result = run(project, data)
    assert (result.imported, result.duplicates) == (2, 1)
    assert len(stored_image_keys(store_root())) == 2  # the duplicate's image is not stored
    again = run(project, data)  # the same archive again: all duplicates, nothing stored twice
    assert (again.imported, again.duplicates) == (0, 3)
    assert len(stored_image_keys(store_root())) == 2


def test_jsonl_with_base64_images(project):
    lines = [json.dumps({"text": "a", "image": b64(png())}),
             json.dumps({"image": "data:image/jpeg;base64," + b64(jpeg())})]
    result = run(project, "\n".join(lines).encode(), "jsonl")
    assert result.imported == 2
    assert sorted(Example.objects.values_list("image_width", flat=True)) == [8, 16]


def refused(project, data: bytes, fmt: str = "zip") -> list[dict]:
    with pytest.raises(ImportFailed) as info:
        run(project, data, fmt)
    assert not Example.objects.filter(project=project).exists()
    assert stored_image_keys(store_root()) == []
    assert not list((store_root() / ".scratch").glob("*/*")) if (store_root() / ".scratch").exists() else True
    return info.value.errors


GOOD = {"a.png": png()}


@pytest.mark.parametrize("name,data,reason", [
    ("bad.png", b"not an image at all", "not an image Pillow can read"),
    ("trunc.png", png(size=(64, 64))[:60], "cannot be decoded"),
    ("pic.tiff", None, "format TIFF is not accepted"),
    ("missing.png", ..., "no such file in the archive"),
])
def test_a_bad_image_is_refused_naming_line_file_and_reason(project, name, data, reason):
    files: dict[str, bytes | str] = {"manifest.csv": f"text,image\nfine,a.png\nbad one,{name}\n", **GOOD}
    if data is None:
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (4, 4)).save(buffer, "TIFF")
        files[name] = buffer.getvalue()
    elif data is not ...:
        files[name] = data
    errors = refused(project, make_zip(files))
    assert errors[0]["line"] == 3
    assert f"file {name!r}" in errors[0]["message"] and reason in errors[0]["message"]


def test_too_many_pixels_and_too_many_bytes_are_refused(project, settings):
    settings.VIGIA_MAX_IMAGE_PIXELS = 100
    errors = refused(project, make_zip({"manifest.csv": "text,image\nbig,big.png\n", "big.png": png(size=(20, 20))}))
    assert "400 pixels, more than VIGIA_MAX_IMAGE_PIXELS=100" in errors[0]["message"]
    settings.VIGIA_MAX_IMAGE_PIXELS = 10_000
    settings.VIGIA_MAX_IMAGE_BYTES = 50
    errors = refused(project, make_zip({"manifest.csv": "text,image\nbig,big.png\n", "big.png": png(size=(20, 20))}))
    assert "more than VIGIA_MAX_IMAGE_BYTES=50" in errors[0]["message"] and errors[0]["line"] == 2
    errors = refused(project, json.dumps({"text": "x", "image": b64(png(size=(20, 20)))}).encode(), "jsonl")
    assert "VIGIA_MAX_IMAGE_BYTES" in errors[0]["message"]


@pytest.mark.parametrize("files,message", [
    ({"manifest.csv": "text,image\nx,../evil.png\n", "../evil.png": png()}, "climbs out of the archive"),
    ({"manifest.csv": "text,image\nx,/etc/evil.png\n", "/etc/evil.png": png()}, "absolute path"),
    ({"a.png": png()}, "holds no manifest"),
    ({"one.csv": "text\nx\n", "two.jsonl": "{}", "a.png": png()}, "several manifests"),
])
def test_unsafe_or_unusable_archives_are_refused(project, files, message):
    errors = refused(project, make_zip(files))
    assert message in errors[0]["message"]


def test_symlinks_are_refused(project):
    data = make_zip({"manifest.csv": "text,image\nx,link.png\n", **GOOD}, symlinks={"link.png": "/etc/passwd"})
    assert "symbolic link" in refused(project, data)[0]["message"]


def test_a_zip_bomb_is_refused_by_the_uncompressed_cap(project, settings):
    settings.VIGIA_MAX_ARCHIVE_BYTES = 1_000_000
    data = make_zip({"manifest.csv": "text,image\nx,a.png\n", "a.png": png(), "zeros.bin": b"\0" * 5_000_000})
    assert len(data) < 100_000
    assert "VIGIA_MAX_ARCHIVE_BYTES=1000000" in refused(project, data)[0]["message"]


def test_not_a_zip_and_bad_base64_are_refused(project):
    assert "not a ZIP archive" in refused(project, b"text,image\nx,a.png\n")[0]["message"]
    errors = refused(project, json.dumps({"text": "x", "image": "a.png"}).encode(), "jsonl")
    assert "needs format=zip" in errors[0]["message"] and errors[0]["line"] == 1


def test_a_row_error_after_good_images_stores_none_of_them(project):
    data = make_zip({"manifest.csv": "text,image,labels\na,a.png,HS\nb,b.png,NOPE\n", "a.png": png(), "b.png": jpeg()})
    errors = refused(project, data)
    assert errors[0]["line"] == 3 and "unknown label 'NOPE'" in errors[0]["message"]


def test_on_error_skip_keeps_the_good_rows_and_stores_only_their_images(project):
    data = make_zip({"manifest.csv": "text,image\na,a.png\nb,bad.png\n", "a.png": png(), "bad.png": b"xx"})
    result = run(project, data, on_error="skip")
    assert (result.imported, result.skipped) == (1, 1)
    assert len(stored_image_keys(store_root())) == 1


def test_the_preview_shows_thumbnails_and_names_bad_images(project):
    from annotator.importers.preview import mapping_from_roles, preview_import

    data = make_zip({"manifest.csv": "text,image\nhello,a.png\nbad,b.png\n", "a.png": png(), "b.png": b"xx"})
    preview = preview_import(project, io.BytesIO(data), "zip")
    assert preview.roles["image"] == "image" and preview.roles["text"] == "text"
    good, bad = preview.rows
    assert good.thumbnail.startswith("data:image/jpeg;base64,") and good.text == "hello"
    assert "file 'b.png'" in bad.error and not bad.thumbnail
    assert mapping_from_roles(preview.columns, preview.roles)["image"] == "image"
    assert stored_image_keys(store_root()) == []


def test_the_cli_imports_and_exports_a_zip(project, tmp_path, capsys):
    from django.core.management import call_command

    source = tmp_path / "memes.zip"
    source.write_bytes(make_zip({"manifest.csv": "text,image\nhello,a.png\n,b.png\n", "a.png": png(), "b.png": jpeg()}))
    call_command("import_examples", str(project.pk), str(source), "--format", "zip")
    assert "imported 2, duplicates 0" in capsys.readouterr().out
    target = tmp_path / "out.zip"
    call_command("export_examples", str(project.pk), "--format", "zip", "--output", str(target))
    import zipfile

    with zipfile.ZipFile(target) as archive:
        assert len([n for n in archive.namelist() if n.startswith("images/")]) == 2


def test_a_jsonl_image_key_mapped_to_metadata_stays_metadata(project):
    line = json.dumps({"text": "a tweet", "image": "https://example.org/a.jpg"})
    with pytest.raises(ImportFailed, match="neither base64 nor a data:image"):
        run(project, line.encode(), "jsonl")
    result = run(project, line.encode(), "jsonl", mapping={"meta": {"image_url": "image"}})
    assert result.imported == 1
    example = Example.objects.get(project=project)
    assert example.meta == {"image_url": "https://example.org/a.jpg"} and not example.image


def test_progress_of_a_zip_import_counts_archive_bytes(project, tmp_path):
    path = tmp_path / "memes.zip"
    path.write_bytes(make_zip({"manifest.csv": "text,image\na,a.png\n", "a.png": png()}))
    seen = []
    import_file(project, path, "zip", progress=lambda done, rows: seen.append((done, rows)))
    assert seen[-1] == (path.stat().st_size, 1)


def test_a_large_zip_imports_as_a_background_job(project, owner, tmp_path, settings, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from annotator.importers.jobs import run_import_job, start_import_job
    from annotator.models import ImportJob, ImportStatus

    settings.VIGIA_UPLOAD_DIR = tmp_path / "uploads"
    data = make_zip({"manifest.csv": "text,image\na,a.png\n,b.jpg\n", "a.png": png(), "b.jpg": jpeg()})
    with django_capture_on_commit_callbacks(execute=False):
        job = start_import_job(project, SimpleUploadedFile("memes.zip", data), "zip", None, owner)
    run_import_job(job.pk)
    job = ImportJob.objects.get(pk=job.pk)
    assert (job.status, job.imported, job.progress) == (ImportStatus.SUCCEEDED, 2, 1.0)
    assert len(stored_image_keys(store_root())) == 2
