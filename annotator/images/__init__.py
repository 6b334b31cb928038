"""Example images: checks (Pillow), storage in the shared store, ZIP archives, thumbnails.

- `checks.check_image(data)`: the format, that it decodes, and the VIGIA_MAX_IMAGE_PIXELS /
  VIGIA_MAX_IMAGE_BYTES limits; `ImageRefused` names the reason.
- `storage.SharedImageStorage`: the Django storage of `Example.image`, over `config.storage`
  (VIGIA_STORAGE_URL, a path or s3://), so every host reaches the same images.
- `archive.ImageArchive`: a ZIP holding a manifest (CSV or JSONL) and its images, read safely.
- `staging.ImageStager`: the images of one import, stored under fresh keys and removed again
  when the import fails or a row turns out to be a duplicate (no orphan files).
- `thumbnails.thumbnail_key(name)`: a thumbnail made once and kept in the store.
"""
