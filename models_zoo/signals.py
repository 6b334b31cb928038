"""Signal receivers of models_zoo, connected in ModelsZooConfig.ready()."""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from annotator.models import Annotation, Project
from models_zoo.models import ModelVersion
from models_zoo.services.artifact_storage import delete_artifact, delete_project_artifacts
from models_zoo.services.policy import on_annotation_saved


@receiver(post_save, sender=Annotation, dispatch_uid="models_zoo.retrain_policy")
def annotation_saved(sender: type[Annotation], instance: Annotation, created: bool, **kwargs: Any) -> None:
    """Retrain policy: count new human annotations (models_zoo.services.policy)."""
    if kwargs.get("raw"):  # fixtures being loaded
        return
    on_annotation_saved(instance, created)


@receiver(post_delete, sender=ModelVersion, dispatch_uid="models_zoo.version_artifact")
def version_deleted(sender: type[ModelVersion], instance: ModelVersion, **kwargs: Any) -> None:
    """A deleted version takes its stored artifact along, once the delete commits (a rolled
    back delete keeps it)."""
    key = instance.artifact_dir
    transaction.on_commit(lambda: delete_artifact(key), robust=True)


@receiver(post_delete, sender=Project, dispatch_uid="models_zoo.project_artifacts")
def project_deleted(sender: type[Project], instance: Project, **kwargs: Any) -> None:
    """A deleted project's whole artifact prefix goes too (leftovers of failed runs included)."""
    project_id = instance.pk
    transaction.on_commit(lambda: delete_project_artifacts(project_id), robust=True)
