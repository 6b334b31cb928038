"""`manage.py export_examples PROJECT --format F [--output FILE]`"""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.exporters import EXPORT_FORMATS, ExportError, export_project
from annotator.exporters.images import iter_zip
from annotator.management.commands._project_arg import find_project


class Command(BaseCommand):
    help = ("Export a project's examples and annotations (stdout unless --output is given). "
            "--format zip (manifest.jsonl + images; needs --output) imports back with --format zip.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project id or exact name")
        parser.add_argument("--format", required=True, choices=[*EXPORT_FORMATS, "zip"], dest="fmt")
        parser.add_argument("--output", default=None, help="file to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        project = find_project(options["project"])
        if options["fmt"] == "zip":
            if not options["output"]:
                raise CommandError("--format zip writes an archive: give --output FILE.zip")
            with open(options["output"], "wb") as archive:
                for chunk in iter_zip(project):
                    archive.write(chunk)
            return
        try:
            if options["output"]:
                with open(options["output"], "w", encoding="utf-8", newline="") as out:
                    export_project(project, options["fmt"], out)
            else:
                self.stdout.ending = ""  # chunks carry their own newlines
                export_project(project, options["fmt"], self.stdout)
        except ExportError as exc:
            raise CommandError(str(exc)) from None
