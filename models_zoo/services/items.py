"""Examples and request texts as model inputs, exactly as training built them
(models_zoo.services.datasets): classifiers see the project's normalized text, span taggers the
raw text (their character offsets point into it); stored images are read through annotator.media.
Shared by one-off predictions, prediction jobs, explanations and simulations."""

from __future__ import annotations

from annotator.media import read_media
from annotator.models import Example, Project, TaskType
from annotator.normalize import normalize
from models_zoo.backends.base import Item


def model_text(project: Project, text: str) -> str:
    """The text as the model saw it in training (see the module docstring)."""
    if project.task_type == TaskType.SPANS:
        return text
    return normalize(text, project.normalization) or text


def item_for_example(example: Example, project: Project) -> Item:
    """An Example as a model input, exactly as models_zoo.services.datasets builds training items."""
    image = None
    if example.image:
        image = read_media(example.image.name)  # the one read path for stored images
    if project.task_type == TaskType.SPANS:
        return Item(text=example.text, image=image)
    return Item(text=example.normalized_text or example.text, image=image)
