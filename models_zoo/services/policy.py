"""Retrain policy: after every N new human annotations (Project.retrain_every; null = off, the
default) a run of Project.retrain_backend with its default config starts on its own.

"New" means human annotations created since the project's latest training run was created (any
outcome), or since the start when it never trained. The check runs after the annotation's
transaction commits, so a policy problem never breaks saving an annotation.
"""
from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from annotator.models import Annotation, AnnotationSource, Project
from annotator.services.projects import update_project
from config.enqueue import BrokerUnavailable
from config.resilience import after_commit
from models_zoo.models import ACTIVE_RUN_STATES, TrainingRun
from models_zoo.services.training import TrainingRequestError, start_training_run

logger = logging.getLogger(__name__)


def new_annotations_since_last_run(project: Project) -> int:
    annotations = Annotation.objects.filter(example__project=project, source=AnnotationSource.HUMAN)
    last = TrainingRun.objects.filter(project=project).order_by("-created_at").first()
    if last is not None:
        annotations = annotations.filter(created_at__gt=last.created_at)
    return annotations.count()


def maybe_retrain(project_id: int) -> TrainingRun | None:
    """Start a policy run when the project's threshold is reached and no run is active."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None or not project.retrain_every:
        return None
    if TrainingRun.objects.filter(project=project, state__in=ACTIVE_RUN_STATES).exists():
        return None
    if new_annotations_since_last_run(project) < project.retrain_every:
        return None
    try:
        with transaction.atomic():
            run = start_training_run(project, project.retrain_backend or "embedding_head", {}, None)
    except TrainingRequestError as exc:
        logger.info("retrain policy of project %s did not start a run: %s", project_id, exc.message)
        return None
    except BrokerUnavailable as exc:
        # The run exists and is marked failed with the reason (shown on the runs page); like
        # any run it restarts the count, so the policy tries again N annotations later.
        logger.warning("retrain policy of project %s: %s", project_id, exc)
        return None
    logger.info("retrain policy started run %s of project %s", run.pk, project_id)
    return run


def on_annotation_saved(annotation: Annotation, created: bool) -> None:
    """post_save hook: schedule the policy check for new human annotations."""
    if not created or annotation.source != AnnotationSource.HUMAN:
        return
    project_id = annotation.example.project_id
    # After the commit, and never an error for the annotation's request: it is stored whatever
    # happens here (a broker that refuses marks the policy run failed, with the reason).
    after_commit(lambda: maybe_retrain(project_id), f"retrain policy of project {project_id}")


def update_policy(project: Project, *, retrain_every: Any, retrain_backend: str,
                  auto_promote: bool, **training_defaults: Any) -> Project:
    """Store the retrain policy, auto-promote and the training defaults given
    (threshold_objective, threshold_targets, validation_split) through the project service,
    which validates all of them (ProjectRuleError naming the field), as it does for REST."""
    return update_project(
        project, retrain_every=retrain_every, retrain_backend=retrain_backend,
        auto_promote=auto_promote, **training_defaults,
    )


def policy_dict(project: Project) -> dict[str, Any]:
    return {
        "retrain_every": project.retrain_every,
        "retrain_backend": project.retrain_backend,
        "auto_promote": project.auto_promote,
        "threshold_objective": project.threshold_objective,
        "threshold_targets": project.threshold_targets,
        "validation_split": project.validation_split,
    }
