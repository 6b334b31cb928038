"""The agreement report of a project: what the agreement page and `GET .../agreement` show.

Only human annotations count (imports, mined negatives, model rows and adjudications are not
annotators). Classification: per label, each annotator's decision is binary (label chosen or
not); "overall" is the whole decision (single-label / binary: the chosen category; multi-label:
every (example, label) pair as one binary unit). Spans: per label and overall, pairwise
entity-level F1, and alpha over span units (`annotator.agreement.span_units`).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from annotator import agreement as A
from annotator.models import Annotation, AnnotationSource, Project, TaskType
from config import hooks


def _pairs(figures: list[A.PairFigure], key: str) -> list[dict[str, Any]]:
    return [{"a": f.a, "b": f.b, key: _round(f.value), "n": f.n} for f in figures]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _human_rows(project: Project) -> list[Annotation]:
    return list(
        Annotation.objects.filter(
            example__project=project, source=AnnotationSource.HUMAN, user__isnull=False
        )
        .select_related("user")
        .order_by("example_id", "id")
    )


def agreement_report(project: Project) -> dict[str, Any]:
    """`{labels: {label: {alpha, pairs}}, overall: {alpha, pairs}, annotators: [...]}`.

    Classification pairs carry "kappa", span pairs "f1"; each pair says n, the examples both
    annotated. Figures that are undefined (one code in use, nothing shared) are null."""
    rows = _human_rows(project)
    label_names = list(project.labels.values_list("name", flat=True))
    by_example: dict[int, dict[str, Any]] = defaultdict(dict)
    spans_task = project.task_type == TaskType.SPANS
    for r in rows:
        if spans_task:
            value: Any = {(s["start"], s["end"], s["label"]) for s in r.spans or []}
        else:
            value = frozenset(r.labels or [])
        by_example[r.example_id][r.user.username] = value
    items = [by_example[eid] for eid in sorted(by_example)]
    key = "f1" if spans_task else "kappa"
    labels: dict[str, Any] = {}
    per_annotator_pairs: list[A.PairFigure] = []
    if spans_task:
        for name in label_names:
            labels[name] = {
                "alpha": _round(A.krippendorff_alpha(A.span_units(items, name))),
                "pairs": _pairs(A.pairwise_span_f1(items, name), key),
            }
        overall_pairs = A.pairwise_span_f1(items)
        overall_alpha = A.krippendorff_alpha(A.span_units(items))
        per_annotator_pairs = overall_pairs
    else:
        for name in label_names:
            units = [{c: int(name in v) for c, v in item.items()} for item in items]
            figures = A.pairwise_kappa(units)
            per_annotator_pairs += figures
            labels[name] = {
                "alpha": _round(A.krippendorff_alpha(units)),
                "pairs": _pairs(figures, key),
            }
        if project.task_type == TaskType.MULTILABEL or project.task_type == TaskType.MULTIMODAL_MULTILABEL:
            units = [
                {c: int(name in v) for c, v in item.items()} for item in items for name in label_names
            ]
        else:  # one category per decision ("" = binary reject)
            units = [{c: next(iter(v), "") for c, v in item.items()} for item in items]
        overall_pairs = A.pairwise_kappa(units)
        overall_alpha = A.krippendorff_alpha(units)
    # What the model suggested to each annotator (models_zoo, through config.hooks).
    suggestions = hooks.call("suggestion_pairs", project, rows, default={})
    times: dict[str, list] = defaultdict(list)
    for r in rows:
        times[r.user.username].append(r.created_at)
    annotators = []
    for name in sorted(times):
        pace = A.decisions_per_hour(times[name])
        shown, accepted, share = A.accepted_unchanged(suggestions.get(name, []))
        mine = [f for f in per_annotator_pairs if name in (f.a, f.b)]
        annotators.append(
            {
                "username": name,
                "decisions": pace.decisions,
                "sessions": pace.sessions,
                "active_hours": round(pace.active_seconds / 3600, 3),
                "decisions_per_hour": _round(pace.per_hour),
                "agreement": _round(A.weighted_mean(mine)),
                "suggestions_shown": shown,
                "suggestions_accepted_unchanged": accepted,
                "accepted_unchanged_share": _round(share),
            }
        )
    return {
        "task_type": project.task_type,
        "measure": key,
        "labels": labels,
        "overall": {"alpha": _round(overall_alpha), "pairs": _pairs(overall_pairs, key)},
        "annotators": annotators,
    }
