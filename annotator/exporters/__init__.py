"""Exporting a project's examples and annotations as jsonl, csv or conll, streamed.

Every format carries the example's text and its "primary" labels or spans: the most recently
updated human annotation, else the imported one (model suggestions are never exported as gold).
jsonl and csv also carry the external id, the meta object and every annotation (user, source,
labels, spans, updated_at); re-importing a jsonl or csv export into a new project gives back the
same examples and primary annotations (the per-user list is informational on import: imported
labels have no user). conll (spans projects only) carries tokens, BIO tags and `# id = ...`
comment lines; its text is the whitespace-separated tokens joined by single spaces.

Visibility follows the annotations endpoint (annotator.api.example_views.visible_annotations):
exported for an annotator (`for_user` with the annotator role), a file carries only that
annotator's own and the imported annotations, and the primary labels are chosen among those,
so nobody learns another annotator's labels or username. Admins, viewers and the CLI
(`for_user=None`) get every annotation.

    from annotator.exporters import export_project, iter_export
    export_project(project, "jsonl", sys.stdout)
    StreamingHttpResponse(iter_export(project, "csv", for_user=request.user), content_type="text/csv")
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, TextIO

from django.db.models import Q

from annotator.models import Annotation, AnnotationSource, Example, Project
from annotator.visibility import visible_annotations

EXPORT_FORMATS = ("jsonl", "csv", "conll")
CONTENT_TYPES = {
    "jsonl": "application/x-ndjson; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "conll": "text/plain; charset=utf-8",
}
_BATCH = 500
_TOKEN = re.compile(r"\S+")


class ExportError(ValueError):
    """The export cannot be made (unknown format, conll for a non-spans project)."""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def visible_to(project: Project, user: Any | None) -> Q:
    """The annotations `user` may read in `project` (None: everything, for the CLI): the rule
    of annotator.visibility, shared with the annotations endpoint and the example filters."""
    return visible_annotations(project, user)


def iter_examples(
    project: Project, visible: Q | None = None, only: Q | None = None
) -> Iterator[tuple[Example, list[Annotation]]]:
    """Examples in id order with their (visible) annotations, fetched in keyset-paginated
    batches so memory stays flat on large projects. `only` restricts the examples (the data
    browser's selection)."""
    last_id = 0
    while True:
        chunk = list(
            Example.objects.filter(project=project, pk__gt=last_id)
            .filter(only or Q())
            .order_by("pk")
            .only("pk", "text", "meta", "external_id", "image")[:_BATCH]
        )
        if not chunk:
            return
        by_example: dict[int, list[Annotation]] = defaultdict(list)
        found = (
            Annotation.objects.filter(example_id__in=[e.pk for e in chunk])
            .filter(visible if visible is not None else Q())
            .select_related("user")
            .order_by("pk")
        )
        for annotation in found:
            by_example[annotation.example_id].append(annotation)
        for example in chunk:
            yield example, by_example[example.pk]
        last_id = chunk[-1].pk


def primary_annotation(annotations: list[Annotation]) -> Annotation | None:
    """The latest human annotation, else the imported one; None when unlabelled."""
    human = [a for a in annotations if a.source == AnnotationSource.HUMAN]
    if human:
        return max(human, key=lambda a: (a.updated_at, a.pk))
    imported = [a for a in annotations if a.source == AnnotationSource.IMPORT]
    return imported[0] if imported else None


def _clean_spans(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ordered = sorted(spans, key=lambda s: (s["start"], s["end"]))
    return [{"start": s["start"], "end": s["end"], "label": s["label"]} for s in ordered]


def example_record(project: Project, example: Example, annotations: list[Annotation]) -> dict[str, Any]:
    """One example as the dict written by the jsonl export."""
    record: dict[str, Any] = {"id": example.external_id, "text": example.text, "meta": example.meta}
    chosen = primary_annotation(annotations)
    if chosen is not None:
        if project.task_type == "spans":
            record["spans"] = _clean_spans(chosen.spans)
        else:
            record["labels"] = list(chosen.labels)
    record["annotations"] = [
        {
            "user": a.user.username if a.user_id else None,
            "source": a.source,
            "labels": list(a.labels),
            "spans": _clean_spans(a.spans),
            "updated_at": a.updated_at.isoformat(),
        }
        for a in annotations
    ]
    return record


def _iter_jsonl(project: Project, visible: Q, only: Q | None = None) -> Iterator[str]:
    for example, notes in iter_examples(project, visible, only):
        yield _dumps(example_record(project, example, notes)) + "\n"


def _iter_csv(project: Project, visible: Q, only: Q | None = None) -> Iterator[str]:
    key = "spans" if project.task_type == "spans" else "labels"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "text", key, "meta", "annotations"])
    for n, (example, notes) in enumerate(iter_examples(project, visible, only), start=1):
        record = example_record(project, example, notes)
        # An empty cell means unlabelled; "[]" means labelled with nothing (a negative).
        value = _dumps(record[key]) if key in record else ""
        writer.writerow(
            [record["id"], record["text"], value, _dumps(record["meta"]), _dumps(record["annotations"])]
        )
        if n % 100 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _bio_lines(text: str, spans: list[dict[str, Any]]) -> Iterator[str]:
    ordered = _clean_spans(spans)
    begun: set[int] = set()
    for match in _TOKEN.finditer(text):
        start = match.start()
        tag = "O"
        for i, span in enumerate(ordered):
            # A token belongs to the span it starts in (or overlaps, for spans starting
            # mid-token); the first such token begins the entity, later ones continue it.
            if span["start"] < match.end() and start < span["end"]:
                tag = ("I-" if i in begun else "B-") + span["label"]
                begun.add(i)
                break
        yield f"{match.group()}\t{tag}\n"


def _iter_conll(project: Project, visible: Q, only: Q | None = None) -> Iterator[str]:
    for example, notes in iter_examples(project, visible, only):
        chosen = primary_annotation(notes)
        lines: list[str] = []
        if example.external_id:
            lines.append(f"# id = {example.external_id}\n")
        lines.extend(_bio_lines(example.text, chosen.spans if chosen else []))
        lines.append("\n")
        yield "".join(lines)


def iter_export(
    project: Project, fmt: str, *, for_user: Any | None = None, only: Q | None = None
) -> Iterator[str]:
    """The export as text chunks (for StreamingHttpResponse), showing what `for_user` may see
    (None: everything); `only` restricts the examples (a Q over Example). Raises ExportError
    up front."""
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; valid formats: {', '.join(EXPORT_FORMATS)}")
    if fmt == "conll":
        if project.task_type != "spans":
            raise ExportError("conll export needs a spans project (BIO tags come from spans)")
    visible = visible_to(project, for_user)
    if fmt == "conll":
        return _iter_conll(project, visible, only)
    if fmt == "jsonl":
        return _iter_jsonl(project, visible, only)
    return _iter_csv(project, visible, only)


def export_project(
    project: Project, fmt: str, out: TextIO, *, for_user: Any | None = None
) -> None:
    """Write the export of `project` in `fmt` to the text stream `out`, chunk by chunk."""
    out.writelines(iter_export(project, fmt, for_user=for_user))
