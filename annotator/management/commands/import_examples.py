"""`manage.py import_examples PROJECT FILE --format F [--mapping JSON]`"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.importers import FORMATS, ImportFailed, import_file
from annotator.management.commands._project_arg import find_project


class Command(BaseCommand):
    help = (
        "Import examples (and their labels) from a file into a project, all or nothing. "
        "Prints the counts, or every bad line and exits with status 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project id or exact name")
        parser.add_argument("file", help="path of the file to import")
        parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt")
        parser.add_argument(
            "--mapping", default=None,
            help='column mapping as JSON, e.g. \'{"text": "Tweet Text", "labels": "label"}\'',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        project = find_project(options["project"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        mapping = None
        if options["mapping"]:
            try:
                mapping = json.loads(options["mapping"])
            except json.JSONDecodeError as exc:
                raise CommandError(f"--mapping is not valid JSON: {exc.msg}") from None
            if not isinstance(mapping, dict):
                raise CommandError("--mapping must be a JSON object")

        def progress(processed: int, rows: int) -> None:
            if sys.stderr.isatty():
                sys.stderr.write(f"\r{rows} rows, {processed / 1e6:.1f} MB read")

        try:
            result = import_file(project, path, options["fmt"], mapping=mapping, progress=progress)
        except ImportFailed as exc:
            for error in exc.errors:
                where = f"{path}:{error['line']}: " if error.get("line") else f"{path}: "
                self.stderr.write(f"{where}{error['message']}")
            more = " (first 100 shown)" if exc.truncated else ""
            raise CommandError(f"nothing imported: {len(exc.errors)} error(s){more}") from None
        self.stdout.write(
            f"imported {result.imported}, duplicates {result.duplicates} into project "
            f"{project.pk} ({project.name})"
        )
