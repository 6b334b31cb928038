"""`manage.py draw_sample PROJECT --design JSON [--preview]`: the REST design, from the shell."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.management.commands._project_arg import find_project
from annotator.sampling import DesignError
from annotator.services.samples import draw_sample, preview_sample
from config.inputs import InvalidInput, loads_json


class Command(BaseCommand):
    help = "Preview or draw a stratified sample (design as in POST /projects/{id}/samples)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project id or exact name")
        parser.add_argument(
            "--design",
            required=True,
            help='JSON, e.g. {"field": "retweet_count", "boundaries": [1, 10], "take_all_above": 1000}',
        )
        parser.add_argument("--preview", action="store_true", help="show the strata, draw nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        project = find_project(options["project"])
        try:
            design = loads_json(options["design"], "--design")
        except InvalidInput as exc:
            raise CommandError(f"--design {exc.message}") from None
        try:
            if options["preview"]:
                body = preview_sample(project, design)
            else:
                sample = draw_sample(project, design)
                body = {"id": sample.pk, "size": sample.size, "strata": sample.strata}
        except DesignError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from None
        self.stdout.write(json.dumps(body, indent=1))
