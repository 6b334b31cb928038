"""Small builders shared by the project-side API tests."""

from __future__ import annotations

from annotator.models import Annotation, Example, Project
from annotator.normalize import content_hash, normalize


def make_example(project: Project, text: str, **extra: object) -> Example:
    normalized = normalize(text, project.normalization)
    return Example.objects.create(
        project=project,
        text=text,
        normalized_text=normalized,
        content_hash=content_hash(normalized),
        **extra,
    )


def annotate(example: Example, user, labels=(), spans=(), source: str = "human") -> Annotation:
    return Annotation.objects.create(
        example=example, user=user, labels=list(labels), spans=list(spans), source=source
    )
