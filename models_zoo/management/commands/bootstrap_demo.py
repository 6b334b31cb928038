"""Create the demo admin, a demo annotator and a demo project loaded with real CrisisLex tweets.

Idempotent: running it again leaves existing users and the project as they are. The first run
also queues the project's first training run, so that once a worker takes it (`make run`
starts one) the project has a model, its suggestions and a prevalence index with days: the
tweets' posting times come from their ids (`posted_at_from_id`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

import annotator
from annotator.importers import import_file
from annotator.models import Label, Membership, Project, Role, TaskType
from models_zoo.models import ModelVersion
from models_zoo.services.training import TrainingRequestError, start_training_run

# The demo tweets are a dataset: they stay with annotator (annotator/fixtures/demo/).
DEMO_FILE = Path(annotator.__file__).resolve().parent / "fixtures" / "demo" / "crisislex_t6_sample.csv"
DEMO_PROJECT = "CrisisLex demo: is the tweet about the crisis?"
# CrisisLex T6 ships tweet ids without dates: the ids are Twitter snowflakes, which carry them.
DEMO_MAPPING = {"text": "text", "id": "id", "labels": "label", "meta": {"event": "event"},
                "posted_at_from_id": True}
# The demo's first model: the default backend on the packaged MiniLM encoder (a few seconds
# once the encoder is loaded).
DEMO_BACKEND = "embedding_head"


@dataclass(frozen=True)
class Demo:
    """What `build_demo` made or found."""

    project: Project
    examples: int
    password: str
    new_logins: bool  # the users were created now, with `password`
    training_run: int | None  # the first run, queued now (None when the project existed)
    current_version: int | None  # the model version serving now, if any


def build_demo() -> Demo:
    """Create (once) the demo users and project, and queue the project's first training run."""
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
    run_id = None
    if project is None:
        project = _create_project(admin, annotator)
        run_id = _queue_first_model(project, admin)

    current = ModelVersion.objects.filter(project=project, is_current=True).values_list("pk", flat=True)
    return Demo(project=project, examples=project.examples.count(), password=password,
                new_logins=created_admin or created_annotator, training_run=run_id,
                current_version=current.first())


@transaction.atomic
def _create_project(admin: Any, annotator: Any) -> Project:
    project = Project.objects.create(
        name=DEMO_PROJECT,
        task_type=TaskType.BINARY,
        created_by=admin,
        guidelines=(
            "Accept (A) when the tweet is about the crisis event (damage, victims, help, "
            "warnings, news of the event); reject (X) when it is not; space skips.\n"
            "Source: CrisisLexT6 (Olteanu et al., ICWSM 2014), MIT licence."
        ),
        # The first model serves as soon as it is trained, so the demo shows suggestions and
        # the index from the first minute; later versions are promoted only if they beat it.
        auto_promote=True,
    )
    Label.objects.create(project=project, name="on-topic", shortcut="o", color="#ef4444")
    Membership.objects.create(user=admin, project=project, role=Role.ADMIN)
    Membership.objects.create(user=annotator, project=project, role=Role.ANNOTATOR)
    with open(DEMO_FILE, "rb") as fh:
        import_file(project, fh, "csv", mapping=DEMO_MAPPING, user=admin)
    return project


def _queue_first_model(project: Project, admin: Any) -> int | None:
    """Queue the first training run (sent to the broker once committed; a worker takes it
    when one runs). A broker that refuses leaves the demo without a model, not broken."""
    try:
        run = start_training_run(project, DEMO_BACKEND, {}, admin)
    except TrainingRequestError as exc:
        import logging

        logging.getLogger(__name__).warning("the demo's first model was not queued: %s", exc)
        return None
    return run.pk


class Command(BaseCommand):
    help = (
        "Create the demo admin (login printed), a demo annotator, and a binary project "
        "'on-topic' loaded with 300 real CrisisLexT6 tweets, their posting times read from "
        "their tweet ids; the first run also queues the project's first training run (a worker "
        "trains it; `make run` starts one). Safe to run more than once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        demo = build_demo()
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        if demo.new_logins:
            self.stdout.write(f"  admin login:     admin / {demo.password}")
            self.stdout.write(f"  annotator login: annotator / {demo.password}")
        else:
            self.stdout.write("  logins: admin, annotator (passwords unchanged since first run)")
        self.stdout.write(f"  project #{demo.project.pk} '{demo.project.name}': {demo.examples} examples")
        if demo.training_run is not None:
            self.stdout.write(f"  first model: training run #{demo.training_run} queued for the worker")
