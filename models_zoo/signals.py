"""Signal receivers of models_zoo, connected in ModelsZooConfig.ready()."""
from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from annotator.models import Annotation


@receiver(post_save, sender=Annotation, dispatch_uid="models_zoo.retrain_policy")
def annotation_saved(sender: type[Annotation], instance: Annotation, created: bool, **kwargs: Any) -> None:
    """Retrain policy: count new human annotations (models_zoo.services.policy)."""
    from models_zoo.services.policy import on_annotation_saved

    if kwargs.get("raw"):  # fixtures being loaded
        return
    on_annotation_saved(instance, created)
