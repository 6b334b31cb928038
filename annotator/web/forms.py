"""Browser forms: the import form (admins) and parsing of an annotate-page decision."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import QueryDict

from annotator.importers import ImportFailed
from annotator.models import Project, TaskType
from annotator.services.annotations import AnnotationInvalid
from annotator.services.imports import parse_mapping_text
from config.inputs import InvalidInput, InvalidJSON, loads_json

IMPORT_FORMATS = [
    ("csv", "CSV"),
    ("tsv", "TSV"),
    ("jsonl", "JSON lines"),
    ("conll", "CoNLL (spans)"),
    ("x-json", "X / Twitter JSON"),
    ("zip", "ZIP of images + manifest"),
]


class ImportForm(forms.Form):
    """The project page's import form; the same fields as `POST /api/v1/projects/{id}/import`."""

    file = forms.FileField()
    format = forms.ChoiceField(choices=IMPORT_FORMATS, initial="csv")
    mapping = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": '{"text": "tweet_text"}'}),
        help_text="Optional column mapping as JSON: our field name -> your column name.",
    )
    on_error = forms.ChoiceField(
        choices=[
            ("stop", "Import nothing if any row is bad"),
            ("skip", "Skip bad rows and import the rest"),
        ],
        initial="stop",
        required=False,
    )

    posted_at_from_id = forms.BooleanField(
        required=False, label="Posting times from tweet ids",
        help_text="The id column holds Twitter/X tweet ids: each row's posting time is read from "
        "its id (rows with a date column keep their date).",
    )

    def clean_on_error(self) -> str:
        return self.cleaned_data.get("on_error") or "stop"

    def clean_mapping(self) -> dict[str, str] | None:
        try:
            return parse_mapping_text(self.cleaned_data.get("mapping"))
        except ImportFailed as exc:
            raise forms.ValidationError(str(exc.errors[0]["message"])) from None


ACTIONS = {"submit", "accept", "reject", "skip"}
# "start:end:LABEL" items, comma or newline separated: the no-JavaScript way to give spans.
_SPAN_TEXT = re.compile(r"^\s*(\d+)\s*[:\-]\s*(\d+)\s*:\s*(.+?)\s*$")


@dataclass
class Decision:
    """What the annotator submitted on the annotate page."""

    action: str
    labels: list[str] = field(default_factory=list)
    spans: list[dict[str, Any]] = field(default_factory=list)


def _parse_spans(post: QueryDict) -> list[dict[str, Any]]:
    raw = (post.get("spans") or "").strip()
    if raw:
        try:
            spans = loads_json(raw, "spans")
        except InvalidJSON as exc:
            raise AnnotationInvalid(f"spans is not valid JSON: {exc.msg}.", "spans") from None
        except InvalidInput as exc:
            raise AnnotationInvalid(f"{exc.field}: {exc.message}.", "spans") from None
        if not isinstance(spans, list):
            raise AnnotationInvalid("spans must be a JSON list.", "spans")
        return spans
    out: list[dict[str, Any]] = []
    text = (post.get("spans_text") or "").strip()
    for i, item in enumerate(p for p in re.split(r"[,\n]", text) if p.strip()):
        m = _SPAN_TEXT.match(item)
        if not m:
            raise AnnotationInvalid(
                f"spans item {i + 1} ({item.strip()!r}) must look like start:end:LABEL.", "spans"
            )
        out.append({"start": int(m[1]), "end": int(m[2]), "label": m[3]})
    return out


def parse_decision(project: Project, post: QueryDict) -> Decision:
    """Turn the annotate form's POST data into a Decision; AnnotationInvalid on bad input."""
    actions = [a for a in post.getlist("action") if a]
    action = actions[-1] if actions else "submit"
    if action not in ACTIONS:
        raise AnnotationInvalid(f"unknown action {action!r}.", "action")
    if action == "skip":
        return Decision("skip")
    if project.task_type == TaskType.BINARY:
        label = project.labels.order_by("order", "id").first()
        if action == "accept":
            return Decision("accept", labels=[label.name] if label else [])
        if action == "reject":
            return Decision("reject", labels=[])
        raise AnnotationInvalid("a binary project takes accept, reject or skip.", "action")
    if project.task_type == TaskType.SPANS:
        return Decision("submit", spans=_parse_spans(post))
    return Decision("submit", labels=[name for name in post.getlist("labels") if name])
