"""Cold start of the live queue (issue 18): before a project has a model of its own.

- Strategy `query` with `Project.queue_query` (one or more descriptions of the class): the queue
  serves the examples nearest to the descriptions first (their best cosine to any description,
  on the embedding store's vectors, `models_zoo.active_learning.starts.query_closeness`) and
  hands over to `Project.queue_then` (default `margin`) once the project has a current model
  of its own. This is the morning of an event: no labels yet, a sentence saying what to find.
- `Project.transfer_model_version`: another project's version (the previous event's detector,
  seed 003's question). The admin who sets it must be able to read that project, and its label
  names must be this project's. Until this project has a current model of its own, that
  version's predictions on this project's examples drive `likely_positive` (and every other
  model-driven strategy) and the annotate page's suggestions.

The same rules apply to a simulation's `{"model_version": id}` start
(models_zoo.services.simulations), which reads the version through `readable_foreign_version`.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from annotator.models import EmbeddingSet, EmbeddingState, Project, TaskType
from annotator.permissions import get_project_for, visible_projects
from annotator.services.embeddings import encode_texts, load_vectors, ready_embedding_set
from annotator.services.projects import ProjectRuleError
from config.text_safety import find_unsafe
from models_zoo.active_learning.queue_strategies import AL_STRATEGIES
from models_zoo.active_learning.starts import query_closeness
from models_zoo.models import ModelVersion

logger = logging.getLogger(__name__)

MAX_DESCRIPTIONS = 20
MAX_DESCRIPTION_CHARS = 1000
SIGMOID_TYPES = (TaskType.BINARY, TaskType.MULTILABEL, TaskType.MULTIMODAL_MULTILABEL)


def parse_descriptions(raw: Any, field: str) -> list[str]:
    """One description or a list of them: 1..MAX_DESCRIPTIONS non-empty strings of at most
    MAX_DESCRIPTION_CHARS characters (stripped). ProjectRuleError names `field`."""
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts:
        raise ProjectRuleError("give a description of the class, or a list of them.", field)
    if len(texts) > MAX_DESCRIPTIONS:
        raise ProjectRuleError(f"at most {MAX_DESCRIPTIONS} descriptions, got {len(texts)}.", field)
    out = []
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise ProjectRuleError(f"description {i + 1} must be a non-empty string.", field)
        if len(text) > MAX_DESCRIPTION_CHARS:
            raise ProjectRuleError(f"description {i + 1} is longer than {MAX_DESCRIPTION_CHARS} "
                                   "characters.", field)
        unsafe = find_unsafe(text)
        if unsafe is not None:  # pages post here without the REST parsers' guard
            raise ProjectRuleError(f"description {i + 1} {unsafe[1]}.", field)
        out.append(text.strip())
    return out


def check_cold_start(fields: dict[str, Any], project: Project | None, actor: Any) -> dict[str, Any]:
    """`queue_query` (descriptions, a string or a list), `queue_then` (the model-driven
    strategy the `query` queue hands over to) and `transfer_model_version` (another project's
    version that `actor` may read, with this project's label names; stored as its id).
    Returns the fields normalised (issue 18, models_zoo.services.cold_start)."""
    out = dict(fields)
    if "queue_query" in fields:
        raw = fields["queue_query"]
        empty = raw is None or raw == [] or (isinstance(raw, str) and not raw.strip())
        out["queue_query"] = [] if empty else parse_descriptions(raw, "queue_query")
    if "queue_then" in fields:
        then = fields["queue_then"] or "margin"
        valid = [name for name in AL_STRATEGIES if name != "query"]
        if then not in valid:
            raise ProjectRuleError(f"queue_then must be a model-driven strategy: {', '.join(valid)}; "
                                   f"got {then!r}.", "queue_then")
        out["queue_then"] = then
    if "transfer_model_version" in fields:
        version_id = out.pop("transfer_model_version")
        if version_id in (None, "", 0):
            out["transfer_model_version_id"] = None
        elif project is None:
            raise ProjectRuleError("set a transfer model once the project exists (its labels "
                                   "must match the model's).", "transfer_model_version")
        else:
            if isinstance(version_id, str) and version_id.strip().isdigit():
                version_id = int(version_id)
            out["transfer_model_version_id"] = readable_foreign_version(
                actor, project, version_id, "transfer_model_version").pk
    return out


def readable_foreign_version(user: Any, project: Project, version_id: Any, field: str) -> Any:
    """The ModelVersion `version_id` of ANOTHER project that `user` may read (any role), whose
    label names are this project's and whose task type reads scores alike. ProjectRuleError
    naming `field` otherwise (an unreadable project is "no such version": not disclosed)."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    if isinstance(version_id, bool) or not isinstance(version_id, int) or not 1 <= version_id <= 2**63 - 1:
        raise ProjectRuleError(f"a model version id, got {version_id!r}.", field)
    version = ModelVersion.objects.select_related("project").filter(pk=version_id).first()
    readable = version is not None and user is not None
    if readable:
        try:
            get_project_for(user, version.project_id)
        except (Http404, PermissionDenied):
            readable = False
    if not readable:
        raise ProjectRuleError(f"no model version {version_id} in a project you can read.", field)
    if version.project_id == project.pk:
        raise ProjectRuleError("name another project's model version (this project's own "
                               "versions are its models already).", field)
    mine = sorted(project.labels.values_list("name", flat=True))
    if sorted(str(x) for x in version.labels) != mine:
        raise ProjectRuleError(f"model version {version_id} has labels "
                               f"{', '.join(sorted(map(str, version.labels)))}; this project has "
                               f"{', '.join(mine)}: the label names must match.", field)
    other = version.project.task_type
    if other != project.task_type and not (other in SIGMOID_TYPES and project.task_type in SIGMOID_TYPES):
        raise ProjectRuleError(f"model version {version_id} is a {other} model; this project is "
                               f"{project.task_type}.", field)
    return version


def own_current_version(project: Project) -> Any:
    return ModelVersion.objects.filter(project=project, is_current=True).first()


def effective_version(project: Project) -> tuple[Any, bool]:
    """(the version whose predictions drive the queue and the suggestions, is it a transfer):
    the project's current version, else its transfer model version, else (None, False)."""
    own = own_current_version(project)
    if own is not None:
        return own, False
    if project.transfer_model_version_id is None:
        return None, False

    return ModelVersion.objects.filter(pk=project.transfer_model_version_id).first(), True


def transfer_version_id(project: Project) -> int | None:
    """The transfer version's id while it is in force (no current model of the project's own)."""
    if project.transfer_model_version_id is None or own_current_version(project) is not None:
        return None
    return project.transfer_model_version_id


def usable_embedding_set(project: Project) -> Any:
    """The project's ready embedding set of the default encoder, else its newest ready set of
    any encoder (descriptions are then embedded with that set's encoder), else None."""
    from django.db.models import Q

    return ready_embedding_set(project) or (
        EmbeddingSet.objects.filter(project=project)
        .filter(Q(state=EmbeddingState.READY) | Q(ready_at__isnull=False)).order_by("-pk").first())


def query_priorities(project: Project) -> tuple[np.ndarray, np.ndarray] | None:
    """(example ids, closeness) for the `query` strategy: each stored vector's best cosine to
    the project's descriptions (clipped to [0, 1]: the queue keeps -1 for "unscored"); None
    without descriptions or a ready embedding set (the queue then stays in random order)."""
    texts = [t for t in (project.queue_query or []) if isinstance(t, str) and t.strip()]
    embedding_set = usable_embedding_set(project)
    if not texts or embedding_set is None:
        logger.info("query strategy for project %s: %s", project.pk,
                    "no descriptions" if not texts else "no ready embedding set: embed the project")
        return None
    ids, vectors = load_vectors(embedding_set)
    if len(ids) == 0:
        return None
    queries = encode_texts(project, texts, embedding_set.encoder)
    return np.asarray(ids, dtype=np.int64), np.clip(query_closeness(np.asarray(vectors), queries), 0.0, 1.0)


def transfer_candidates(user: Any, project: Project, limit: int = 200) -> list[Any]:
    """Model versions of other projects `user` can read whose label names are this project's
    (the queue page's choices for `transfer_model_version`), newest first."""
    mine = sorted(project.labels.values_list("name", flat=True))
    versions = (ModelVersion.objects.filter(project__in=visible_projects(user))
                .exclude(project=project).select_related("project").order_by("-pk")[:limit])
    return [v for v in versions if sorted(str(x) for x in v.labels) == mine]
