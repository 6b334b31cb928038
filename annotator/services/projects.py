"""Projects, their label schemas and their members.

One core under every edge: the REST API, the browser UI and management commands call these
functions, so the rules live here: label names and shortcut keys are unique within a project,
colours are #rrggbb, a binary project has exactly one label, a project always keeps an admin,
renaming a label renames it inside the stored annotations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Q

from annotator.models import Annotation, Example, Label, Membership, Project, Role, Sample, TaskType
from annotator.services.errors import ProjectRuleError
from annotator.services.label_specs import (  # noqa: F401 - the edges import them from here too
    COLOR_RE,
    DEFAULT_SHORTCUTS,
    PALETTE,
    RESERVED_SHORTCUTS,
    LabelSpec,
    _check_label_count,
    check_label,
    complete_label_specs,
    labels_deletable,
    labels_room,
    parse_label_specs,
)
from annotator.services.project_settings import check_retrain_settings
from annotator.services.queue_strategies import get_strategy
from config import hooks

# Project settings an admin may change (in the order the API shows them).
PROJECT_FIELDS = (
    "description",
    "guidelines",
    "normalization",
    "overlap",
    "allow_overlapping_spans",
    "queue_strategy",
    "queue_sample",
    "queue_label",
    "retrain_every",
    "retrain_backend",
    "auto_promote",
    "threshold_objective",
    "threshold_targets",
    "validation_split",
    "queue_query",
    "queue_then",
    "transfer_model_version",
)


def check_settings(
    fields: Mapping[str, Any], task_type: str | None = None, current_backend: str | None = None
) -> dict[str, Any]:
    """Settings that name a plugin must name one that exists (the error lists the valid ones);
    with `task_type`, the retrain policy is checked too (`project_settings`). Returns the fields
    normalised (retrain_every 0 -> None)."""
    strategy = fields.get("queue_strategy")
    if strategy is not None:
        try:
            get_strategy(strategy)
        except ValueError as exc:
            raise ProjectRuleError(str(exc), "queue_strategy") from None
    hooks.call("check_training_defaults", fields)
    backend = fields.get("retrain_backend")
    if backend:
        available = hooks.call("backend_names")
        if backend not in available:
            raise ProjectRuleError(
                f"unknown backend {backend!r}; valid: {', '.join(available)}.", "retrain_backend"
            )
    if task_type is None:
        return dict(fields)
    return check_retrain_settings(fields, task_type, current_backend)


def _with_queue_sample(project: Project | None, changes: dict[str, Any]) -> dict[str, Any]:
    """`queue_sample` (a sample id or None) checked to be one of this project's samples."""
    if "queue_sample" not in changes:
        return changes
    changes = dict(changes)
    sample_id = changes.pop("queue_sample")
    if sample_id is not None:
        if project is None or not Sample.objects.filter(pk=sample_id, project=project).exists():
            raise ProjectRuleError(f"sample {sample_id} is not a sample of this project.", "queue_sample")
    changes["queue_sample_id"] = sample_id
    return changes


def check_queue_label(fields: Mapping[str, Any], label_names: list[str]) -> None:
    """`likely_positive` (also as the `query` strategy's `queue_then`) needs a `queue_label`,
    and a queue label must be one of the labels; `query` needs descriptions (issue 18)."""
    label = fields.get("queue_label") or ""
    if label and label not in label_names:
        raise ProjectRuleError(
            f"unknown queue_label {label!r}; labels: {', '.join(label_names)}.", "queue_label"
        )
    strategy = fields.get("queue_strategy")
    then = fields.get("queue_then") or "margin"
    if (strategy == "likely_positive" or (strategy == "query" and then == "likely_positive")) and not label:
        raise ProjectRuleError(
            "the likely_positive strategy needs a queue_label (the label to find positives of).",
            "queue_label",
        )
    if strategy == "query" and not fields.get("queue_query"):
        raise ProjectRuleError(
            "the query strategy needs queue_query: one or more descriptions of what to find.",
            "queue_query",
        )


@transaction.atomic
def create_project(
    *, creator: AbstractBaseUser, name: str, task_type: str, labels: Any, **fields: Any
) -> Project:
    """Create a project with its label schema; the creator becomes its admin."""
    if task_type not in TaskType.values:
        raise ProjectRuleError(
            f"unknown task_type {task_type!r}; valid: {', '.join(TaskType.values)}.", "task_type"
        )
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise ProjectRuleError(f"unknown project fields: {', '.join(sorted(unknown))}.")
    if not isinstance(name, str) or not name.strip():
        raise ProjectRuleError("name must not be empty.", "name")
    name = name.strip()
    fields = check_settings(fields, task_type)
    fields = _with_queue_sample(None, fields) if fields.get("queue_sample") is not None else {
        k: v for k, v in fields.items() if k != "queue_sample"
    }
    specs = complete_label_specs(parse_label_specs(labels))
    _check_label_count(task_type, len(specs))
    hooks.call("check_training_defaults", fields, [spec.name for spec in specs])
    fields = hooks.call("check_cold_start", fields, None, creator)
    check_queue_label(fields, [s.name for s in specs])
    project = Project.objects.create(name=name, task_type=task_type, created_by=creator, **fields)
    Label.objects.bulk_create(
        Label(project=project, name=s.name, shortcut=s.shortcut, color=s.color, order=i)
        for i, s in enumerate(specs)
    )
    Membership.objects.create(user=creator, project=project, role=Role.ADMIN)
    return project


@transaction.atomic
def update_project(project: Project, actor: Any = None, **changes: Any) -> Project:
    """Change project settings. The task type may change only while nothing is annotated.
    `actor`: who changes them (a transfer model version must be readable by them)."""
    if "name" in changes:
        if not isinstance(changes["name"], str) or not changes["name"].strip():
            raise ProjectRuleError("name must not be empty.", "name")
        changes["name"] = changes["name"].strip()
    new_type = changes.get("task_type", project.task_type)
    changes = check_settings(
        changes, new_type, project.retrain_backend if new_type == project.task_type else None
    )
    changes = _with_queue_sample(project, changes)
    hooks.call("check_training_defaults", changes, list(project.labels.values_list("name", flat=True)))
    changes = hooks.call("check_cold_start", changes, project, actor)
    check_queue_label(
        {"queue_strategy": project.queue_strategy, "queue_label": project.queue_label,
         "queue_query": project.queue_query, "queue_then": project.queue_then, **changes},
        list(project.labels.values_list("name", flat=True)),
    )
    rescore = any(
        key in changes and changes[key] != getattr(project, key)
        for key in ("queue_strategy", "queue_label", "queue_query", "queue_then")
    )
    new_transfer = ("transfer_model_version_id" in changes
                    and changes["transfer_model_version_id"] is not None
                    and changes["transfer_model_version_id"] != project.transfer_model_version_id)
    rescore = rescore or (
        "transfer_model_version_id" in changes
        and changes["transfer_model_version_id"] != project.transfer_model_version_id)
    new_type = changes.get("task_type", project.task_type)
    if new_type != project.task_type:
        if new_type not in TaskType.values:
            raise ProjectRuleError(f"unknown task_type {new_type!r}.", "task_type")
        if Annotation.objects.filter(example__project=project).exists():
            raise ProjectRuleError(
                "the task type cannot change once the project has annotations.",
                "task_type",
                conflict=True,
            )
        _check_label_count(new_type, project.labels.count())
    previous = {key: getattr(project, key) for key in changes}
    for key, value in changes.items():
        setattr(project, key, value)
    project.save()
    if new_transfer:
        # Its predictions on this pool, in chunks; the last chunk rescores the queue.
        hooks.call("predict_with_transfer", project)
    if rescore:
        def revert(reason: str) -> None:
            # The queue would keep ordering by the old strategy's scores: take the change back
            # (the edge answers 503, nothing changed) rather than store a half-applied setting.
            Project.objects.filter(pk=project.pk).update(**previous)
            for key, value in previous.items():
                setattr(project, key, value)

        hooks.call("request_rescore", project, on_refused=revert)
    return project


def project_counts(
    project_ids: Iterable[int], *, own_only: Iterable[int] = (), user_id: int | None = None
) -> dict[int, dict[str, int]]:
    """Examples, annotated examples and annotations per project, in grouped queries whatever
    the number of projects (one scan of the examples, one or two of the annotations). In the
    projects of `own_only` (where the caller is an annotator, annotator.visibility) only the
    annotations of `user_id` and the imported ones are counted."""
    ids = list(project_ids)
    restricted = set(own_only) & set(ids)
    counts = {pk: {"examples": 0, "annotated_examples": 0, "annotations": 0} for pk in ids}
    if not ids:
        return counts
    for pk, n in (
        Example.objects.filter(project_id__in=ids)
        .order_by()
        .values_list("project_id")
        .annotate(n=Count("*"))
    ):
        counts[pk]["examples"] = n
    groups = [(set(ids) - restricted, Q()), (restricted, Q(user_id=user_id) | Q(user__isnull=True))]
    for pk, n, distinct in (
        row
        for group, visible in groups
        if group
        for row in Annotation.objects.filter(example__project_id__in=group)
        .filter(visible)
        .order_by()
        .values_list("example__project_id")
        .annotate(n=Count("*"), d=Count("example_id", distinct=True))
    ):
        counts[pk]["annotations"], counts[pk]["annotated_examples"] = n, distinct
    return counts


# --- labels ----------------------------------------------------------------------------------


def _check_unique(spec: LabelSpec, others: list[Label]) -> None:
    if spec.name.lower() in {o.name.lower() for o in others}:
        raise ProjectRuleError(
            f"a label named {spec.name!r} exists already.", "name", conflict=True
        )
    if spec.shortcut and spec.shortcut.lower() in {o.shortcut.lower() for o in others}:
        raise ProjectRuleError(
            f"shortcut {spec.shortcut!r} belongs to another label.", "shortcut", conflict=True
        )


@transaction.atomic
def add_label(project: Project, name: str, shortcut: str = "", color: str = "") -> Label:
    Project.objects.select_for_update().filter(pk=project.pk).first()  # serialize schema edits
    taken = list(project.labels.all())
    if labels_room(project.task_type, len(taken)) == 0:
        raise ProjectRuleError(
            "a binary project has exactly one label; rename it instead.", "name", conflict=True
        )
    spec = LabelSpec(name.strip(), shortcut or "", color or "")
    check_label(spec, f"label {spec.name!r}", "name")
    _check_unique(spec, taken)
    (spec,) = complete_label_specs([spec], taken)
    order = max((label.order for label in taken), default=-1) + 1
    return Label.objects.create(
        project=project, name=spec.name, shortcut=spec.shortcut, color=spec.color, order=order
    )


def _rename_in_annotations(project: Project, old: str, new: str) -> int:
    """Annotations store label names; carry a rename into them so nothing is orphaned."""
    changed = 0
    rows = Annotation.objects.filter(example__project=project).only("id", "labels", "spans")
    for ann in rows.iterator(chunk_size=2000):
        labels = [new if name == old else name for name in ann.labels]
        spans = [{**s, "label": new} if s.get("label") == old else s for s in ann.spans]
        if labels != ann.labels or spans != ann.spans:
            Annotation.objects.filter(pk=ann.pk).update(labels=labels, spans=spans)
            changed += 1
    return changed


@transaction.atomic
def update_label(label: Label, **changes: Any) -> Label:
    """Change a label's name, shortcut, colour or order; a rename reaches its annotations."""
    project = label.project
    others = list(project.labels.exclude(pk=label.pk))
    spec = LabelSpec(
        name=str(changes.get("name", label.name)).strip(),
        shortcut=changes.get("shortcut", label.shortcut) or "",
        color=changes.get("color", label.color) or "",
    )
    check_label(spec, f"label {label.name!r}", "name")
    _check_unique(spec, others)
    old_name = label.name
    label.name, label.shortcut = spec.name, spec.shortcut
    label.color = spec.color or label.color
    if "order" in changes:
        label.order = changes["order"]
    label.save()
    if old_name != label.name:
        _rename_in_annotations(project, old_name, label.name)
    return label


def label_usage(label: Label) -> int:
    """How many annotations use the label (as a document label or in a span)."""
    return sum(
        1
        for ann in Annotation.objects.filter(example__project=label.project)
        .only("labels", "spans")
        .iterator(chunk_size=2000)
        if label.name in ann.labels or any(s.get("label") == label.name for s in ann.spans)
    )


@transaction.atomic
def delete_label(label: Label) -> None:
    """Delete a label nobody has used; used labels would silently corrupt annotations."""
    project = label.project
    if not labels_deletable(project.task_type, project.labels.count()):
        raise ProjectRuleError("a project keeps at least one label.", conflict=True)
    used = label_usage(label)
    if used:
        raise ProjectRuleError(
            f"label {label.name!r} is used by {used} annotation(s); rename it instead.",
            conflict=True,
        )
    label.delete()


# --- members ---------------------------------------------------------------------------------


def _check_role(role: Any) -> str:
    if role not in Role.values:
        raise ProjectRuleError(f"unknown role {role!r}; valid: {', '.join(Role.values)}.", "role")
    return role


@transaction.atomic
def add_member(project: Project, user: AbstractBaseUser, role: str = Role.ANNOTATOR) -> Membership:
    _check_role(role)
    if Membership.objects.filter(project=project, user=user).exists():
        raise ProjectRuleError(
            f"{user.get_username()} is already a member of this project.", "user", conflict=True
        )
    return Membership.objects.create(project=project, user=user, role=role)


def _other_admins(membership: Membership) -> int:
    # Lock every admin row, this one included, in a fixed order (FOR UPDATE cannot take an
    # aggregate): two concurrent demotions then run one after the other, and the second sees
    # the first's result instead of both seeing "another admin" and leaving none.
    admins = (
        Membership.objects.select_for_update()
        .filter(project_id=membership.project_id, role=Role.ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return len([pk for pk in admins if pk != membership.pk])


@transaction.atomic
def change_role(membership: Membership, role: str) -> Membership:
    """Change a member's role; the project never loses its last admin."""
    _check_role(role)
    if membership.role == Role.ADMIN and role != Role.ADMIN and not _other_admins(membership):
        raise ProjectRuleError(
            "this is the project's last admin; make someone else admin first.",
            "role",
            conflict=True,
        )
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(membership: Membership) -> None:
    """Remove a member; the project never loses its last admin."""
    if membership.role == Role.ADMIN and not _other_admins(membership):
        raise ProjectRuleError(
            "this is the project's last admin; make someone else admin first.", conflict=True
        )
    membership.delete()
