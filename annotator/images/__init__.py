"""Example images: checks (Pillow), storage in the shared store, ZIP archives, thumbnails.

- `checks.check_image(data)`: the format, that it decodes, and the VIGIA_MAX_IMAGE_PIXELS /
  VIGIA_MAX_IMAGE_BYTES limits; `ImageRefused` names the reason.
- `storage.SharedImageStorage`: the Django storage of `Example.image`, over `config.storage`
  (VIGIA_STORAGE_URL, a path or s3://), so every host reaches the same images.
- `archive.ImageArchive`: a ZIP holding a manifest (CSV or JSONL) and its images, read safely.
- `uploads.atomic_uploads()`: the transaction every upload of an example image happens in; the
  objects it uploaded are deleted when it does not commit (COMMIT failing included).
- `staging.ImageStager`: the images of one import, stored under fresh keys (through the import's
  `atomic_uploads()`) only for the rows inserted (no orphan files).
- `thumbnails.thumbnail_key(name)`: a thumbnail made once and kept in the store.
"""
