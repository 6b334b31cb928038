"""`manage.py mine PROJECT --label L [--band 2] [--n N] [--mode propose|negatives]`: mine
difficult negatives (seed 003) through the same service as the REST API and the page."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.management.commands._project_arg import find_project
from annotator.mining.algorithm import MiningError
from annotator.models_mining import MiningRun
from annotator.services.embeddings import embed_inline, ready_embedding_set, request_embedding_set
from config.enqueue import BrokerUnavailable
from models_zoo.mining.service import create_mining_run, mine_run, run_payload


class Command(BaseCommand):
    help = "Mine difficult negatives for a label (queued for a worker; --inline runs it here)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project id or exact name")
        parser.add_argument("--label", required=True)
        parser.add_argument("--band", type=int, default=2, help="1, 2 or 3 sigma (default 2)")
        parser.add_argument("--n", type=int, help="how many (default: the label's positives)")
        parser.add_argument("--tails", default="upper", choices=["upper", "both"])
        parser.add_argument("--p", type=int, default=3000, help="pool items to fit mu, sigma on")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--dedupe-threshold", type=float, default=0.95)
        parser.add_argument("--mode", default="propose", choices=["propose", "negatives"])
        parser.add_argument("--encoder", default="default")
        parser.add_argument("--inline", action="store_true",
                            help="embed (if needed) and mine in this process instead of a worker")

    def handle(self, *args: Any, **opts: Any) -> None:
        project = find_project(opts["project"])
        data = {k: opts[k] for k in ("label", "band", "n", "tails", "p", "seed", "mode", "encoder")}
        data["dedupe_threshold"] = opts["dedupe_threshold"]
        if opts["inline"]:
            self._embed_inline(project, opts["encoder"])
        try:
            run = create_mining_run(project, None, data, enqueue_job=not opts["inline"])
        except MiningError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from None
        except BrokerUnavailable as exc:  # the run is marked failed with the reason
            raise CommandError(f"the task queue is unavailable (or run with --inline): {exc.reason}") from None
        if not opts["inline"]:
            self.stdout.write(f"mining run {run.pk} queued")
            return
        try:
            mine_run(MiningRun.objects.select_related("project").get(pk=run.pk))
        except MiningError as exc:
            MiningRun.objects.filter(pk=run.pk).update(state="failed", error=exc.message)
            raise CommandError(f"{exc.field}: {exc.message}") from None
        body = run_payload(MiningRun.objects.get(pk=run.pk))
        self.stdout.write(
            f"mining run {run.pk}: {body['proposed']} proposed from band {body['band']} "
            f"(mu {body['mu']:.4f}, sigma {body['sigma']:.4f}, band holds {body['band_size']}) "
            f"in {body['elapsed_s']:.3f} s"
        )

    def _embed_inline(self, project: Any, encoder: str) -> None:
        if ready_embedding_set(project, encoder) is None:
            embedding_set = embed_inline(request_embedding_set(project, encoder))
            self.stdout.write(f"embedded {embedding_set.count} examples ({embedding_set.state})")
