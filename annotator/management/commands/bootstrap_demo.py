"""Create the demo admin, a demo annotator and a demo project loaded with real CrisisLex tweets.

Idempotent: running it again leaves existing users and the project as they are.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from annotator.models import Label, Membership, Project, Role, TaskType

DEMO_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "crisislex_t6_sample.csv"
DEMO_PROJECT = "CrisisLex demo: is the tweet about the crisis?"
DEMO_MAPPING = {"text": "text", "id": "id", "labels": "label", "meta": {"event": "event"}}


class Command(BaseCommand):
    help = (
        "Create the demo admin (login printed), a demo annotator, and a binary project "
        "'on-topic' loaded with 300 real CrisisLexT6 tweets. Safe to run more than once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("VIGIA_DEMO_PASSWORD", "vigia-demo")
        User = get_user_model()
        admin, created_admin = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created_admin:
            admin.set_password(password)
            admin.save()
        annotator, created_annotator = User.objects.get_or_create(username="annotator")
        if created_annotator:
            annotator.set_password(password)
            annotator.save()

        project = Project.objects.filter(name=DEMO_PROJECT).first()
        if project is None:
            project = self._create_project(admin, annotator)
        count = project.examples.count()

        self.stdout.write(self.style.SUCCESS("Demo ready."))
        if created_admin or created_annotator:
            self.stdout.write(f"  admin login:     admin / {password}")
            self.stdout.write(f"  annotator login: annotator / {password}")
        else:
            self.stdout.write("  logins: admin, annotator (passwords unchanged since first run)")
        self.stdout.write(f"  project #{project.pk} '{project.name}': {count} examples")

    @transaction.atomic
    def _create_project(self, admin: Any, annotator: Any) -> Project:
        from annotator.importers import import_file

        project = Project.objects.create(
            name=DEMO_PROJECT,
            task_type=TaskType.BINARY,
            created_by=admin,
            guidelines=(
                "Accept (A) when the tweet is about the crisis event (damage, victims, help, "
                "warnings, news of the event); reject (X) when it is not; space skips.\n"
                "Source: CrisisLexT6 (Olteanu et al., ICWSM 2014), MIT licence."
            ),
        )
        Label.objects.create(project=project, name="on-topic", shortcut="o", color="#ef4444")
        Membership.objects.create(user=admin, project=project, role=Role.ADMIN)
        Membership.objects.create(user=annotator, project=project, role=Role.ANNOTATOR)
        with open(DEMO_FILE, "rb") as fh:
            import_file(project, fh, "csv", mapping=DEMO_MAPPING, user=admin)
        return project
