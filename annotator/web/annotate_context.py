"""Builds what the annotate page shows for one example: labels with their keys and colours,
pre-filled choices (the annotator's own annotation, else the current model's suggestion),
tokens for span selection, the metadata line, history and progress."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from annotator.mining.proposals import mined_for
from annotator.models import Annotation, AnnotationSource, Example, Label, Project, TaskType
from annotator.services import progress
from config import hooks

HISTORY_SIZE = 10
# Words (with inner apostrophes), @mentions and #hashtags stay whole; any other non-space
# character is its own token. Spans snap to these token boundaries.
# Letter keys annotate.js handles before looking for a label's shortcut.
# "+", "=", "-" and "0" zoom the example's image.
PAGE_KEYS = frozenset({"h", "+", "=", "-", "0"})
TOKEN_RE = re.compile(r"[#@]?\w+(?:['’]\w+)*|\S")


@dataclass(frozen=True)
class LabelChoice:
    name: str
    color: str
    shortcut: str
    number: int | None  # 1-9 key, None past the ninth label
    checked: bool
    suggested: bool
    score: float | None
    threshold: float | None = None  # the version's decision threshold for this label

    @property
    def keys(self) -> list[str]:
        """The keys that pick this label, each once: its 1-9 position key, then its own
        shortcut unless that never reaches the label in annotate.js: the same key, a digit 1-9
        (digits always pick by position) or a key the page keeps for itself (h: guidelines)."""
        keys = [str(self.number)] if self.number else []
        shortcut = self.shortcut.strip()
        taken = shortcut.lower() in keys or shortcut.lower() in PAGE_KEYS
        if shortcut and not taken and not ("1" <= shortcut <= "9" and len(shortcut) == 1):
            keys.append(shortcut)
        return keys


def tokenize(text: str) -> list[dict[str, Any]]:
    """Tokens with character offsets into `text`, and the whitespace that follows each."""
    tokens: list[dict[str, Any]] = []
    matches = list(TOKEN_RE.finditer(text))
    for i, m in enumerate(matches):
        following_end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        tokens.append(
            {"start": m.start(), "end": m.end(), "text": m.group(), "ws": text[m.end():following_end]}
        )
    return tokens


def meta_line(example: Example) -> list[tuple[str, str]]:
    """(caption, value) pairs for the date, language, retweets and event, when present."""
    meta = example.meta or {}
    pairs = []
    for key, caption in (
        ("created_at", "date"),
        ("lang", "language"),
        ("retweet_count", "retweets"),
        ("event", "event"),
    ):
        value = meta.get(key)
        if value not in (None, ""):
            pairs.append((caption, str(value)))
    return pairs


def history(project: Project, user: AbstractBaseUser, colors: dict[str, str]) -> list[dict[str, Any]]:
    """The user's last HISTORY_SIZE decisions in the project, newest first, with label colours.

    Walks the (user, updated_at) index backwards, so it stays cheap for prolific annotators.
    """
    rows = (
        Annotation.objects.filter(user=user, example__project=project)
        .exclude(source=AnnotationSource.ADJUDICATED)
        .select_related("example")
        .order_by("-updated_at", "-id")[:HISTORY_SIZE]
    )
    return [
        {
            "annotation": a,
            "accepted": bool(a.labels),
            "example": a.example,
            "labels": [(name, colors.get(name, "#9ca3af")) for name in a.labels],
            "spans": [
                (a.example.text[s["start"]:s["end"]], s["label"], colors.get(s["label"], "#9ca3af"))
                for s in a.spans
            ],
        }
        for a in rows
    ]


def annotate_context(
    project: Project,
    user: AbstractBaseUser,
    example: Example | None,
    *,
    editing: bool = False,
    error: str | None = None,
    posted_labels: list[str] | None = None,
    posted_spans: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Template context for templates/annotator/partials/workspace.html."""
    labels: list[Label] = list(project.labels.all())
    ctx: dict[str, Any] = {
        "project": project,
        "example": example,
        "editing": editing,
        "error": error,
        "history": history(project, user, {lb.name: lb.color for lb in labels}),
        "counts": progress.cached_project_counts(project),
        "my_done": progress.user_done_count(project, user),
        "task_type": project.task_type,
        "is_spans": project.task_type == TaskType.SPANS,
        "is_binary": project.task_type == TaskType.BINARY,
        "is_single": project.task_type == TaskType.SINGLELABEL,
        "labels_json": json.dumps(
            [{"name": lb.name, "color": lb.color, "shortcut": lb.shortcut} for lb in labels]
        ),
    }
    if example is None:
        ctx["choices"] = []
        return ctx
    # A freshly claimed example has never been this user's, so it has no annotation of theirs.
    mine = (
        None
        if getattr(example, "freshly_claimed", False)
        else Annotation.objects.filter(example=example, user=user)
        .exclude(source=AnnotationSource.ADJUDICATED)
        .first()
    )
    suggestion = None if mine or posted_labels is not None else hooks.call("model_suggestion", example, default=None)
    if posted_labels is not None or posted_spans is not None:
        chosen, spans = set(posted_labels or []), posted_spans or []
    elif mine is not None:
        chosen, spans = set(mine.labels), mine.spans
    elif suggestion is not None:
        chosen, spans = set(suggestion.labels or []), suggestion.spans or []
    else:
        chosen, spans = set(), []
    scores = (suggestion.scores or {}) if suggestion is not None else {}
    thresholds = (
        (suggestion.model_version.thresholds or {}) if suggestion is not None else {}
    )
    ctx.update(
        choices=[
            LabelChoice(
                name=lb.name,
                color=lb.color,
                shortcut=lb.shortcut,
                number=i + 1 if i < 9 else None,
                checked=lb.name in chosen,
                suggested=suggestion is not None and lb.name in (suggestion.labels or []),
                score=scores.get(lb.name),
                threshold=thresholds.get(lb.name) if isinstance(thresholds, dict) else None,
            )
            for i, lb in enumerate(labels)
        ],
        suggestion=suggestion,
        # Issue 18: another project's model drives suggestions and queue until this one has
        # its own.
        transfer=hooks.call("transfer_in_force", project, default=None),
        mine=mine,
        spans_json=json.dumps(spans),
        spans_suggested=suggestion is not None and bool(spans),
        tokens=tokenize(example.text) if project.task_type == TaskType.SPANS else [],
        meta=meta_line(example),
        binary_label=labels[0] if labels else None,
        mined_for=mined_for(example),
        # Why the queue picked it (issue 9); random order needs no explanation.
        why=(
            hooks.call("why_picked", project, example, default=None)
            if (project.queue_strategy or "random") != "random" and not editing
            else None
        ),
    )
    return ctx
