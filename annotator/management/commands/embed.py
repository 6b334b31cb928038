"""`manage.py embed PROJECT [--encoder E] [--wait | --inline]`: compute the embedding store."""
from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from annotator.management.commands._project_arg import find_project
from annotator.models import EmbeddingSet
from annotator.services.embeddings import embed_inline, request_embedding_set
from annotator.services.projects import ProjectRuleError
from config.enqueue import BrokerUnavailable


class Command(BaseCommand):
    help = (
        "Compute (or bring up to date) the embeddings of every example of PROJECT (id or exact "
        "name): enqueue one Celery task per chunk (--wait polls until the set is ready) or embed "
        "in this process (--inline, no worker needed)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project id or exact name")
        parser.add_argument("--encoder", default=None,
                            help='encoder: "default" (packaged MiniLM) or a model directory under VIGIA_MODEL_DIRS (a CLIP checkpoint embeds the images too)')
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--wait", action="store_true", help="poll until every chunk is done")
        mode.add_argument("--inline", action="store_true", help="embed in this process, without a worker")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds --wait waits at most")

    def handle(self, *args: Any, **opts: Any) -> None:
        project = find_project(opts["project"])
        try:
            embedding_set = request_embedding_set(project, opts["encoder"], enqueue=not opts["inline"])
        except ProjectRuleError as exc:
            raise CommandError(f"--{exc.field}: {exc.message}") from None
        except BrokerUnavailable as exc:  # the set is marked failed with the reason
            raise CommandError(f"the task queue is unavailable (or run with --inline): {exc.reason}") from None
        chunks = embedding_set.chunks.count()
        self.stdout.write(f"embedding set {embedding_set.pk} ({embedding_set.encoder}) of project "
                          f"{project.pk}: {chunks} chunk(s), state {embedding_set.state}")
        started = time.monotonic()
        if opts["inline"]:
            embedding_set = embed_inline(embedding_set)
        elif opts["wait"]:
            embedding_set = self._wait(embedding_set.pk, opts["timeout"])
        self._report(embedding_set, time.monotonic() - started)

    def _wait(self, set_id: int, timeout: float) -> EmbeddingSet:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            close_old_connections()
            s = EmbeddingSet.objects.get(pk=set_id)
            line = f"{s.state} {s.progress * 100:5.1f}% {s.count} vectors"
            if line != last:
                self.stdout.write(line)
                last = line
            if s.state in ("ready", "failed"):
                return s
            time.sleep(1.0)
        raise CommandError(f"embedding set {set_id} still not ready after {timeout:.0f} s")

    def _report(self, s: EmbeddingSet, elapsed: float) -> None:
        if s.state == "failed":
            raise CommandError(f"embedding set {s.pk} failed: {s.error}")
        message = f"embedding set {s.pk}: {s.state}, {s.count} vectors of dim {s.dim}"
        if s.state == "ready":
            self.stdout.write(self.style.SUCCESS(f"{message} ({elapsed:.1f} s)"))
        else:
            self.stdout.write(message)
