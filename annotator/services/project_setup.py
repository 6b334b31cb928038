"""Project setup use cases the browser pages need beyond `annotator.services.projects`:
editing settings and labels in one step, finding a user to add, deleting a project.

The REST API calls the same functions (`delete_project`), and every rule comes from the project
service, so a page and an API call are refused with the same message.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, models, transaction

from annotator.images.examples import delete_project_images_on_commit
from annotator.models import Example, Label, Project
from annotator.services import projects as project_service
from annotator.services.projects import ProjectRuleError


@dataclass
class LabelEdit:
    """One row of the label table: `label_id` None adds a label (when `name` is given)."""

    label_id: int | None
    name: str
    shortcut: str = ""
    color: str = ""
    delete: bool = False


@transaction.atomic
def save_project_setup(project: Project, changes: dict[str, Any], label_edits: list[LabelEdit]) -> Project:
    """Apply settings `changes` and the label table in one transaction: deletions first (a
    freed name or key can be reused), then edits, then new labels. ProjectRuleError names the
    row; nothing is stored then."""
    labels = {label.pk: label for label in project.labels.all()}
    for edit in label_edits:
        if edit.label_id is not None and edit.label_id not in labels:
            raise ProjectRuleError(f"label {edit.label_id} is not a label of this project.", "labels")
    for edit in label_edits:
        if edit.label_id is not None and edit.delete:
            project_service.delete_label(labels[edit.label_id])
    for edit in label_edits:
        if edit.label_id is None or edit.delete:
            continue
        label = labels[edit.label_id]
        if (edit.name, edit.shortcut, edit.color) != (label.name, label.shortcut, label.color):
            try:
                project_service.update_label(label, name=edit.name, shortcut=edit.shortcut, color=edit.color)
            except ProjectRuleError as exc:
                raise ProjectRuleError(f"label {label.name!r}: {exc.message}", "labels", exc.conflict) from None
    for edit in label_edits:
        if edit.label_id is None and edit.name.strip():
            try:
                project_service.add_label(project, edit.name, edit.shortcut, edit.color)
            except ProjectRuleError as exc:
                raise ProjectRuleError(f"new label {edit.name!r}: {exc.message}", "labels", exc.conflict) from None
    if changes:
        project_service.update_project(project, **changes)
    return project


def find_user(username: str) -> AbstractBaseUser:
    """The active user of that name, as the REST members endpoint finds them."""
    User = get_user_model()
    username = (username or "").strip()
    if not username:
        raise ProjectRuleError("give the username of the person to add.", "username")
    try:
        return User.objects.get(username=username, is_active=True)
    except User.DoesNotExist:
        raise ProjectRuleError(f"no active user named {username!r}.", "username") from None


def delete_project(project: Project, *, confirm_name: str | None = None) -> None:
    """Delete the project with its examples, annotations, models and runs, in one transaction.
    `confirm_name` (the pages ask for it) must be the project's name exactly."""
    if confirm_name is not None and confirm_name.strip() != project.name:
        raise ProjectRuleError(
            "type the project's name exactly to delete it; nothing was deleted.", "confirm_name"
        )
    with transaction.atomic():
        delete_project_images_on_commit(project.pk)  # and their thumbnails
        _delete_examples(project)
        project.delete()


def _delete_examples(project: Project) -> None:
    """Delete the project's examples and the rows hanging off them set-based: one DELETE per
    table, by project (issue 21). The ORM's cascade would list every example id in Python and
    send a post_delete signal per annotation: minutes for 500k examples. Per-row receivers of
    these rows do not run; what they keep in step (mined proposals) goes with the project. If
    a relation onto Example is ever more than a plain cascade (SET_NULL, PROTECT, rows with
    dependents of their own), the ORM's cascade does it all, as before."""
    relations = [
        r for r in Example._meta.get_fields(include_hidden=True)
        if r.auto_created and not r.concrete and r.is_relation
    ]
    if not all(_plain_cascade(r) for r in relations):
        Example.objects.filter(project=project).delete()
        return
    examples = "SELECT id FROM annotator_example WHERE project_id = %s"
    with connection.cursor() as cur:
        for relation in relations:
            table, column = relation.related_model._meta.db_table, relation.field.column
            cur.execute(f"DELETE FROM {table} WHERE {column} IN ({examples})", [project.pk])
        # Counted for the embedding store by the statement trigger (annotator migration 0012).
        cur.execute("DELETE FROM annotator_example WHERE project_id = %s", [project.pk])


def _plain_cascade(relation: Any) -> bool:
    """A foreign key onto Example with on_delete=CASCADE whose rows nothing else points at."""
    return (
        (relation.one_to_many or relation.one_to_one)
        and relation.on_delete is models.CASCADE
        and not any(
            r.auto_created and not r.concrete and r.is_relation
            for r in relation.related_model._meta.get_fields(include_hidden=True)
        )
    )


def label_rows(project: Project | None, blank: int) -> list[dict[str, Any]]:
    """Rows of the label table: the project's labels (`deletable` when the rules allow deleting
    one), then up to `blank` empty rows pre-filled with the next free shortcut and palette
    colour (what the service would assign); no more empty rows than the project may still add
    (none for a binary project that has its label)."""
    taken: list[Label] = list(project.labels.all()) if project is not None else []
    deletable = project is not None and project_service.labels_deletable(project.task_type, len(taken))
    rows = [
        {"id": lb.pk, "name": lb.name, "shortcut": lb.shortcut, "color": lb.color,
         "deletable": deletable}
        for lb in taken
    ]
    if project is not None:
        room = project_service.labels_room(project.task_type, len(taken))
        blank = blank if room is None else min(blank, room)
    keys = {lb.shortcut.lower() for lb in taken if lb.shortcut}
    free = [k for k in project_service.DEFAULT_SHORTCUTS if k not in keys]
    palette = project_service.PALETTE
    for i in range(blank):
        rows.append({
            "id": None, "name": "", "shortcut": free[i] if i < len(free) else "",
            "color": palette[(len(taken) + i) % len(palette)],
        })
    return rows
