"""Fixtures shared by the training tests (services, REST, pages): a registered test backend,
an annotated project, and a private artifacts directory. Import them into a test module."""
from __future__ import annotations

from pathlib import Path

import pytest

from annotator.models import Annotation, AnnotationSource, Example, Project
from annotator.normalize import content_hash, normalize
from models_zoo import registry

STEPPING = "tests.models_zoo.services.stepping_backend:SteppingBackend"

# (text, labels): two label sets cycle so every stratum has members in train and validation.
PATTERNS = [
    ("they should all be sent back home, disgusting", ["HS", "AG"]),
    ("you are a pathetic liar and everyone knows", ["TR", "AG"]),
    ("lovely weather in the park this morning", []),
    ("new immigrants arrive at the border station", []),
]


@pytest.fixture
def stepping_backend(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(registry.BUILTIN_BACKENDS, "stepping", STEPPING)
    return "stepping"


@pytest.fixture
def artifacts_dir(settings, storage_per_test):
    """The test's store (a local path): artifacts are at `<store>/<project>/<run>`."""
    return Path(settings.VIGIA_STORAGE_URL)


def add_example(project: Project, text: str) -> Example:
    norm = normalize(text)
    return Example.objects.create(
        project=project, text=text, normalized_text=norm, content_hash=content_hash(norm)
    )


def annotate(project: Project, user, n: int = 20) -> list[Example]:
    """`n` examples of `project`, each with one human annotation by `user`."""
    examples = []
    for i in range(n):
        text, labels = PATTERNS[i % len(PATTERNS)]
        example = add_example(project, f"{text} #{i}")
        Annotation.objects.create(example=example, user=user, labels=labels, source=AnnotationSource.HUMAN)
        examples.append(example)
    return examples


@pytest.fixture
def annotated_project(project, owner, artifacts_dir) -> Project:
    annotate(project, owner)
    return project
