"""Shared by the import/export commands: find a project by id or by name."""
from __future__ import annotations

from django.core.management.base import CommandError

from annotator.models import Project


def find_project(value: str) -> Project:
    """PROJECT on the command line: a numeric id, else an exact (unique) name."""
    if value.isdigit():
        project = Project.objects.filter(pk=int(value)).first()
        if project is not None:
            return project
    matches = list(Project.objects.filter(name=value)[:2])
    if not matches:
        raise CommandError(f"no project with id or name {value!r}")
    if len(matches) > 1:
        raise CommandError(f"several projects are named {value!r}; give the id instead")
    return matches[0]
