"""Importing examples (and their labels) from files: csv, tsv, jsonl, conll, x-json.

    from annotator.importers import import_file, ImportFailed, ImportResult, FORMATS
    result = import_file(project, "tweets.csv", "csv", mapping={"text": "Tweet Text"})

The column mapping is documented in `annotator.importers.mapping`; large uploads go through
`annotator.importers.jobs` (a Celery task with progress on an ImportJob row).
"""
from __future__ import annotations

from annotator.importers.errors import MAX_ERRORS, ImportFailed, ImportResult
from annotator.importers.mapping import ColumnMapping
from annotator.importers.service import FORMATS, import_file

__all__ = ["FORMATS", "MAX_ERRORS", "ColumnMapping", "ImportFailed", "ImportResult", "import_file"]
