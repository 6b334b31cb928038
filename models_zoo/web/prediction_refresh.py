"""What a promotion did, in words, and the live state of the prediction refresh that follows
it (models_zoo.services.versions promotes, then predicts the project with the new current
version as a chunked job; the active-learning queue is re-scored once every chunk is in)."""
from __future__ import annotations

from typing import Any

from annotator.models import Project
from models_zoo.active_learning.queue_strategies import AL_STRATEGIES
from models_zoo.models import ModelVersion, PredictionJob, PredictionJobState


def promotion_message(project: Project, promoted: ModelVersion, previous: ModelVersion | None) -> str:
    """The sentence the versions page shows after an admin promotes `promoted`."""
    if previous is not None and previous.pk == promoted.pk:
        return f"Version #{promoted.pk} was already the current model of {project.name}: nothing changed."
    replaced = f", replacing #{previous.pk}" if previous is not None else ""
    head = (f"Version #{promoted.pk} ({promoted.backend}) is now the current model of {project.name}{replaced}: "
            "the prediction API answers with it from now on.")
    # The refresh job starts when the promotion commits (normally before this runs).
    job = PredictionJob.objects.filter(model_version=promoted).order_by("-id").first()
    if job is not None and job.state == PredictionJobState.SUCCEEDED and job.examples == 0:
        return f"{head} It had predicted every example already: the annotate page's suggestions come from it now."
    count = f" {job.examples}" if job is not None else ""
    queue = (f" and the queue's {project.queue_strategy} order is re-scored once they are all in"
             if project.queue_strategy in AL_STRATEGIES else "")
    return (f"{head} Its predictions for the project's{count} examples are being refreshed in the "
            f"background; the annotate page's suggestions follow as they land{queue}.")


def refresh_context(project: Project) -> dict[str, Any]:
    """The newest prediction job of the current version: {"job", "current", "percent",
    "running"}; job None when there is no current version or it never predicted the project."""
    current = ModelVersion.objects.filter(project=project, is_current=True).first()
    job = (
        PredictionJob.objects.filter(project=project, model_version=current).order_by("-id").first()
        if current is not None else None
    )
    running = job is not None and job.state == PredictionJobState.RUNNING
    return {
        "project": project, "current": current, "job": job, "running": running,
        "percent": round(job.progress * 100) if job is not None else 0,
        "rescored": project.queue_strategy in AL_STRATEGIES,
    }
