"""`manage.py import_examples PROJECT FILE --format F [--mapping JSON] [--on-error stop|skip]
[--posted-at-from-id [COLUMN]]`"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.importers import FORMATS, ImportFailed
from annotator.importers.errors import ON_ERROR_CHOICES
from annotator.management.commands._project_arg import find_project
from annotator.services.imports import parse_mapping_text, start_import


class Command(BaseCommand):
    help = (
        "Import examples (and their labels) from a file into a project, all or nothing by "
        "default. Prints the counts, or every bad line and exits with status 1. With "
        "--on-error skip the valid rows are imported and the bad lines listed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project id or exact name")
        parser.add_argument("file", help="path of the file to import")
        parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt")
        parser.add_argument(
            "--mapping", default=None,
            help='column mapping as JSON, e.g. \'{"text": "Tweet Text", "labels": "label"}\'',
        )
        parser.add_argument(
            "--on-error", choices=ON_ERROR_CHOICES, default="stop", dest="on_error",
            help="stop (default): import nothing when a row is bad; skip: import the valid rows",
        )
        parser.add_argument(
            "--posted-at-from-id", nargs="?", const="true", default=None, metavar="COLUMN",
            dest="posted_at_from_id",
            help="take each row's posting time from its Twitter/X snowflake tweet id (ms since "
            "the Unix epoch = (id >> 22) + 1288834974657): the id column's ids, or COLUMN's; "
            "a date column of the row wins",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        project = find_project(options["project"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            mapping = parse_mapping_text(options["mapping"])
        except ImportFailed as exc:
            raise CommandError(f"--{exc.errors[0]['message']}") from None

        def progress(processed: int, rows: int) -> None:
            if sys.stderr.isatty():
                sys.stderr.write(f"\r{rows} rows, {processed / 1e6:.1f} MB read")

        try:
            # Inline (background=False): this command is the worker and prints progress.
            result = start_import(
                project, path, options["fmt"], mapping=mapping, progress=progress,
                on_error=options["on_error"], background=False,
                posted_at_from_id=options["posted_at_from_id"],
            ).result
        except ImportFailed as exc:
            self._write_errors(path, exc.errors)
            more = " (first 100 shown)" if exc.truncated else ""
            raise CommandError(f"nothing imported: {len(exc.errors)} error(s){more}") from None
        self._write_errors(path, result.errors)
        skipped = f", skipped {result.skipped} bad record(s)" if result.skipped else ""
        self.stdout.write(
            f"imported {result.imported}, duplicates {result.duplicates}{skipped} into project "
            f"{project.pk} ({project.name})"
        )

    def _write_errors(self, path: Path, errors: list[dict[str, Any]]) -> None:
        for error in errors:
            where = f"{path}:{error['line']}: " if error.get("line") else f"{path}: "
            self.stderr.write(f"{where}{error['message']}")
