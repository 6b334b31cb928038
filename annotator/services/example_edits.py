"""Creating and editing single examples (the REST API's examples endpoint, admin tools).

Bulk loading goes through the importers; this module applies the same rules to one example:
the raw text is kept, the normalized text follows the project's normalization mode, and the
content hash of the normalized text is the dedupe key within the project (of the raw text when
normalization leaves nothing, e.g. a tweet of only a link: as the importers do, so such tweets
do not all collide).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError

from annotator.images.checks import ImageRefused
from annotator.images.examples import (
    delete_images_on_commit,
    image_content_hash,
    read_upload,
    store_new_image,
    stored_image_sha256,
)
from annotator.images.uploads import atomic_uploads
from annotator.importers.values import posted_at_of
from annotator.models import Example, Project, TaskType
from annotator.normalize import content_hash, normalize
from annotator.services.embeddings import after_examples_changed


class ExampleInvalid(ValueError):
    def __init__(self, message: str, field: str = "non_field_errors") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class DuplicateExample(ValueError):
    """The project already holds an example with the same normalized text."""

    def __init__(self, existing_id: int) -> None:
        super().__init__(f"the project already has this text as example {existing_id}.")
        self.existing_id = existing_id


def _clean_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ExampleInvalid("text must be a non-empty string.", "text")
    return text


def _clean_meta(meta: Any) -> dict:
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise ExampleInvalid("meta must be a JSON object.", "meta")
    return meta


def _existing_id(project: Project, digest: str, exclude: int | None = None) -> int | None:
    rows = Example.objects.filter(project=project, content_hash=digest)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return rows.values_list("pk", flat=True).first()


def create_example(
    project: Project, text: Any = "", *, external_id: str = "", meta: Any = None, image: Any = None
) -> Example:
    """Add one example; raise DuplicateExample naming the existing one when the text is known.
    `image` (an uploaded file) is checked (annotator.images.checks) and stored in the shared
    store; an example with an image may have no text, and its dedupe key includes the image."""
    key = ""
    info = None
    if image is not None:
        try:
            data, info = read_upload(image)
        except ImageRefused as exc:
            raise ExampleInvalid(str(exc), "image") from None
        text = text if isinstance(text, str) and text.strip() else ""
    else:
        text = _clean_text(text)
    normalized = normalize(text, project.normalization) if text else ""
    digest = content_hash(normalized or text)
    if info is not None:
        digest = image_content_hash(normalized or text, info.sha256)
    existing = _existing_id(project, digest)
    if existing is not None:
        raise DuplicateExample(existing)
    try:
        with atomic_uploads() as uploads:  # the image goes again if the row does not commit
            if info is not None:
                key = store_new_image(uploads, project.pk, data, info)
            example = Example.objects.create(
                project=project,
                text=text,
                normalized_text=normalized,
                content_hash=digest,
                external_id=external_id or "",
                meta=_clean_meta(meta),
                posted_at=posted_at_of(meta),
                image=key,
                image_width=info.width if info else None,
                image_height=info.height if info else None,
            )
    except IntegrityError:
        # A concurrent request stored the same text between our check and our insert.
        existing = _existing_id(project, digest)
        if existing is None:
            raise
        raise DuplicateExample(existing) from None
    after_examples_changed(project)  # embed it where the project has an embedding set
    return example


_KEEP = object()  # update_example(): the image is not part of the changes


def update_example(example: Example, **changes: Any) -> Example:
    """Edit text, external id, metadata or the image. A new text is re-normalized and re-hashed;
    it may not collide with another example, nor move under existing span offsets.

    `image`: an uploaded file replaces the image (checked as `create_example` checks it; the
    dedupe key follows the new image), None removes it, which an example without text may not
    do (it would have neither). The new image is stored within the row's transaction (removed
    again if it does not commit); the old image and its thumbnail are removed from the store
    once the new row has committed."""
    project = example.project
    image = changes.get("image", _KEEP)
    info = None
    if image is not _KEEP and image is not None:
        try:
            data, info = read_upload(image)
        except ImageRefused as exc:
            raise ExampleInvalid(str(exc), "image") from None
    text_changed = "text" in changes and changes["text"] != example.text
    if text_changed:
        text = _clean_text(changes["text"])
        if project.task_type == TaskType.SPANS and example.annotations.exists():
            raise ExampleInvalid(
                "the text of an example with span annotations cannot change: the spans' "
                "character offsets point into it.",
                "text",
            )
        normalized = normalize(text, project.normalization)
    else:
        text, normalized = example.text, example.normalized_text
    old_image = example.image.name if example.image else ""
    removing = image is None and bool(old_image)
    if removing and not text.strip():
        raise ExampleInvalid(
            "an example needs a text or an image: this one has no text, so its image cannot be "
            "removed (send a text with it, or delete the example).",
            "image",
        )
    image_changed = info is not None or removing
    if text_changed or image_changed:
        if info is not None:  # the dedupe key of an example with an image includes the image
            digest = image_content_hash(normalized or text, info.sha256)
        elif old_image and not removing:
            digest = image_content_hash(normalized or text, stored_image_sha256(old_image))
        else:
            digest = content_hash(normalized or text)
        existing = _existing_id(project, digest, exclude=example.pk)
        if existing is not None:
            raise DuplicateExample(existing)
        example.text, example.normalized_text, example.content_hash = text, normalized, digest
    if "external_id" in changes:
        example.external_id = changes["external_id"] or ""
    if "meta" in changes:
        example.meta = _clean_meta(changes["meta"])
        example.posted_at = posted_at_of(example.meta)
    try:
        with atomic_uploads() as uploads:  # a new image goes again if the row does not commit
            if info is not None:
                example.image = store_new_image(uploads, project.pk, data, info)
                example.image_width, example.image_height = info.width, info.height
            elif removing:
                example.image = ""
                example.image_width = example.image_height = None
            example.save()
            if image_changed:
                delete_images_on_commit([old_image])  # with its thumbnail, once this commits
    except IntegrityError:
        example.image = old_image  # the row in the database still names the old image
        existing = _existing_id(project, example.content_hash, exclude=example.pk)
        if existing is None:
            raise
        raise DuplicateExample(existing) from None
    if text_changed or image_changed:
        after_examples_changed(project, [example.pk])  # its stored vectors are stale
    return example
