"""`manage.py train PROJECT --backend B [--config JSON] [--wait | --inline]`."""
from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from annotator.models import Project
from config.enqueue import BrokerUnavailable
from config.inputs import InvalidInput, loads_json
from models_zoo.models import RunState, TrainingRun
from models_zoo.services.training import TrainingRequestError, start_training_run
from models_zoo.services.training_worker import run_training


class Command(BaseCommand):
    help = (
        "Start a training run of PROJECT (id or exact name) with a backend: enqueue it for a "
        "Celery worker (--wait polls and prints progress until it ends) or train in this process "
        "(--inline, no worker needed)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project id or exact name")
        parser.add_argument("--backend", default="embedding_head", help="backend registry name")
        parser.add_argument("--config", default="{}", help="backend config as a JSON object")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--wait", action="store_true", help="poll and print progress until the run ends")
        mode.add_argument("--inline", action="store_true", help="train in this process, without a worker")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds --wait waits at most")

    def handle(self, *args: Any, **opts: Any) -> None:
        project = self._project(opts["project"])
        try:
            config = loads_json(opts["config"], "--config")
        except InvalidInput as exc:
            raise CommandError(f"--config {exc.message}") from None
        try:
            run = start_training_run(
                project, opts["backend"], config, None, enqueue=not opts["inline"], require_queue=True
            )
        except TrainingRequestError as exc:
            raise CommandError(exc.message) from None
        except BrokerUnavailable as exc:  # the run was withdrawn: nothing blocks the project
            raise CommandError(f"the task queue is unavailable, no run was started: {exc.reason}") from None
        self.stdout.write(f"run {run.pk} queued ({run.backend}) for project {project.pk}")
        if opts["inline"]:
            run_training(run.pk)
        elif opts["wait"]:
            self._wait(run.pk, opts["timeout"])
        run.refresh_from_db()
        self._report(run)

    def _project(self, ref: str) -> Project:
        project = Project.objects.filter(pk=int(ref)).first() if ref.isdigit() else None
        if project is None:
            matches = list(Project.objects.filter(name=ref)[:2])
            if len(matches) != 1:
                what = "no project" if not matches else "several projects"
                raise CommandError(f"{what} with id or name {ref!r}")
            project = matches[0]
        return project

    def _wait(self, run_id: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            close_old_connections()
            run = TrainingRun.objects.get(pk=run_id)
            line = f"{run.state} {run.progress * 100:5.1f}% epoch={run.epoch} loss={run.loss} eta={run.eta_seconds}"
            if line != last:
                self.stdout.write(line)
                last = line
            if run.is_finished:
                return
            time.sleep(1.0)
        raise CommandError(f"run {run_id} still not finished after {timeout:.0f} s")

    def _report(self, run: TrainingRun) -> None:
        if run.state == RunState.SUCCEEDED:
            version = run.model_version
            self.stdout.write(self.style.SUCCESS(
                f"run {run.pk} succeeded: model version {version.pk}, "
                f"f1_macro={version.metrics.get('f1_macro')}, current={version.is_current}"
            ))
        elif run.state in (RunState.FAILED, RunState.CANCELLED):
            raise CommandError(f"run {run.pk} {run.state}: {run.error or run.log.splitlines()[-1]}")
