"""The data browser: a project's examples filtered, sorted and paged (one use case behind the
browser page `/projects/{id}/data/` and `GET /api/v1/projects/{id}/browse`).

`parse_filter(params)` validates query parameters into a `BrowseFilter` (raising
`BrowseFilterInvalid` naming the field); `filtered_examples(project, f)` builds the queryset;
`browse_page(project, f)` returns one page without COUNT(*) over the whole project: it fetches
one row more than the page to know whether a next page exists, and counts matches only up to
`COUNT_CAP` (shown as "1,000+"), so a page stays one bounded query at a million examples.

Full-text search on PostgreSQL is `to_tsvector('simple', text) @@ websearch_to_tsquery(...)`,
served by the GIN index `example_text_fts` (migration 0007).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db.models import (
    BooleanField,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from annotator.filters import _has_label
from annotator.models import Annotation, AnnotationSource, Example, Project
from config.inputs import InvalidInput, loads_json, parse_float, parse_int
from models_zoo.models import ModelVersion, Prediction

PAGE_SIZES = (25, 50, 100, 200)
COUNT_CAP = 1000
SORTS = ("id", "-id", "posted_at", "-posted_at", "created_at", "-created_at", "score", "-score")
YES_NO = {"": None, "any": None, "yes": True, "true": True, "1": True,
          "no": False, "false": False, "0": False}


class BrowseFilterInvalid(ValueError):
    """A filter value is wrong; `field` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class BrowseFilter:
    q: str = ""
    label: str = ""
    annotator: str = ""
    source: str = ""
    annotated: bool | None = None
    has_image: bool | None = None
    score_label: str = ""
    score_min: float | None = None
    score_max: float | None = None
    model_disagrees: bool = False
    annotators_disagree: bool = False
    meta: tuple[tuple[str, str], ...] = ()
    posted_after: datetime | None = None
    posted_before: datetime | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    sort: str = "id"
    page: int = 1
    page_size: int = 50
    # Keyset pagination (sort by id only): the id of the previous page's last row. The page's
    # "Next" links carry it, so a deep page costs what page 1 costs; `page` is then only shown.
    after: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def uses_score(self) -> bool:
        return self.score_min is not None or self.score_max is not None or "score" in self.sort


def _get(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name, "")
    if isinstance(value, list | tuple):
        value = value[-1] if value else ""
    return str(value).strip()


def _getlist(params: Mapping[str, Any], name: str) -> list[str]:
    if hasattr(params, "getlist"):
        return [str(v) for v in params.getlist(name)]
    value = params.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _float(params: Mapping[str, Any], name: str) -> float | None:
    raw = _get(params, name)
    if not raw:
        return None
    try:
        return parse_float(raw, name)
    except InvalidInput as exc:
        finite = "finite" in exc.message  # a number, but NaN or infinite
        raise BrowseFilterInvalid(name, "must be a finite number." if finite else f"{raw!r} is not a number.") from None


def _when(params: Mapping[str, Any], name: str, end_of_day: bool = False) -> datetime | None:
    raw = _get(params, name)
    if not raw:
        return None
    try:
        moment = parse_datetime(raw)
        day = None if moment else parse_date(raw)
    except ValueError:
        moment = day = None
    if moment is None and day is None:
        raise BrowseFilterInvalid(name, f"{raw!r} is not a date (YYYY-MM-DD) or ISO date-time.")
    if moment is None:
        moment = datetime(day.year, day.month, day.day)
        if end_of_day:  # "before 2024-03-02" includes that whole day
            moment = moment.replace(hour=23, minute=59, second=59, microsecond=999999)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment


def _int(params: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    raw = _get(params, name)
    if not raw:
        return default
    try:
        return parse_int(raw, name, lo=low, hi=high)
    except InvalidInput as exc:
        if "between" in exc.message:
            raise BrowseFilterInvalid(name, f"{exc.message}.") from None
        raise BrowseFilterInvalid(name, f"{raw!r} is not a whole number.") from None


def _yes_no(params: Mapping[str, Any], name: str) -> bool | None:
    raw = _get(params, name).lower()
    if raw not in YES_NO:
        raise BrowseFilterInvalid(name, f"{raw!r} is not one of yes, no.")
    return YES_NO[raw]


def parse_filter(params: Mapping[str, Any]) -> BrowseFilter:
    """Validate query parameters (a QueryDict or a dict) into a BrowseFilter.

    Parameters: q, label, annotator (username), source (human/model/import/mined), annotated
    (yes/no), has_image (yes/no), score_label + score_min/score_max (current model version), model_disagrees,
    annotators_disagree (yes), meta (repeatable "key=value"), posted_after/posted_before,
    created_after/created_before (dates), sort (one of SORTS), page, page_size.
    """
    source = _get(params, "source")
    if source and source not in AnnotationSource.values:
        raise BrowseFilterInvalid(
            "source", f"{source!r} is not a source; valid: {', '.join(AnnotationSource.values)}."
        )
    sort = _get(params, "sort") or "id"
    if sort not in SORTS:
        raise BrowseFilterInvalid("sort", f"{sort!r} is not a sort; valid: {', '.join(SORTS)}.")
    meta: list[tuple[str, str]] = []
    for raw in _getlist(params, "meta"):
        raw = raw.strip()
        if not raw:
            continue
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise BrowseFilterInvalid("meta", f"{raw!r} is not key=value.")
        meta.append((key.strip(), value.strip()))
    score_min, score_max = _float(params, "score_min"), _float(params, "score_max")
    if score_min is not None and score_max is not None and score_min > score_max:
        raise BrowseFilterInvalid("score_min", "must not be above score_max.")
    page_size = _int(params, "page_size", 50, 1, max(PAGE_SIZES))
    return BrowseFilter(
        q=_get(params, "q")[:500],
        label=_get(params, "label"),
        annotator=_get(params, "annotator"),
        source=source,
        annotated=_yes_no(params, "annotated"),
        has_image=_yes_no(params, "has_image"),
        score_label=_get(params, "score_label"),
        score_min=score_min,
        score_max=score_max,
        model_disagrees=bool(_yes_no(params, "model_disagrees")),
        annotators_disagree=bool(_yes_no(params, "annotators_disagree")),
        meta=tuple(meta),
        posted_after=_when(params, "posted_after"),
        posted_before=_when(params, "posted_before", end_of_day=True),
        created_after=_when(params, "created_after"),
        created_before=_when(params, "created_before", end_of_day=True),
        sort=sort,
        page=_int(params, "page", 1, 1, 1_000_000),
        page_size=page_size,
        after=_int(params, "after", 0, 0, 2**62) or None,
    )


def current_version(project: Project) -> Any | None:
    return ModelVersion.objects.filter(project=project, is_current=True).first()


def _score_label(project: Project, f: BrowseFilter, version: Any) -> str:
    labels = list(version.labels) if version is not None else []
    if f.score_label:
        if version is not None and f.score_label not in labels:
            raise BrowseFilterInvalid(
                "score_label", f"{f.score_label!r} is not a label of the current model version; "
                f"valid: {', '.join(labels)}."
            )
        return f.score_label
    if not labels:
        raise BrowseFilterInvalid("score_min", "the project has no current model version to score by.")
    # Binary projects have one label; otherwise the first label (the page offers a choice).
    return labels[0]


def _same_set(a: str, b: str, column: str) -> str:
    """SQL: the JSON lists a.column and b.column hold the same items (order-free)."""
    return f"({a}.{column} @> {b}.{column} AND {b}.{column} @> {a}.{column})"


def _same_annotation(a: str, b: str) -> str:
    return f"({_same_set(a, b, 'labels')} AND {_same_set(a, b, 'spans')})"


class _TextMatches(Func):
    """to_tsvector('simple', text) @@ websearch_to_tsquery('simple', q): the expression of
    the GIN index example_text_fts, written against the query's own alias of the column (so
    it stays right inside subqueries)."""

    arg_joiner = ") @@ websearch_to_tsquery('simple', "
    template = "(to_tsvector('simple', %(expressions)s))"
    output_field = BooleanField()


def _exists_for_example(sql: str) -> Func:
    """A boolean EXISTS (...) whose `{example}` is the query's own example id column."""
    return Func(F("pk"), template=sql.replace("{example}", "%(expressions)s"),
                output_field=BooleanField())


def _meta_q(key: str, value: str) -> Q:
    """meta[key] equals value: as a string, or as the JSON number/boolean it spells (jsonb
    containment, served by the GIN index on meta)."""
    candidates: list[Any] = [value]
    try:
        parsed = loads_json(value, "meta")
        if isinstance(parsed, int | float | bool) or parsed is None:
            candidates.append(parsed)
    except InvalidInput:  # not JSON, or NaN/1e400 (no stored value equals those): text only
        pass
    q = Q()
    for candidate in candidates:
        q |= Q(meta__contains={key: candidate})
    return q


def filtered_examples(project: Project, f: BrowseFilter) -> QuerySet[Example]:
    """The project's examples matching `f`, sorted, with `browse_score` annotated when the
    filter or sort uses the model score. Raises BrowseFilterInvalid for values that only the
    project can judge (a score label the model lacks, scoring without a model)."""
    qs = Example.objects.filter(project=project)
    ann = Annotation._meta.db_table
    pred = Prediction._meta.db_table
    if f.q:
        qs = qs.filter(_TextMatches(F("text"), Value(f.q)))
    notes = Annotation.objects.filter(example=OuterRef("pk"))
    if f.label:
        qs = qs.filter(Exists(_has_label(notes, f.label)))
    if f.annotator:
        qs = qs.filter(Exists(notes.filter(user__username=f.annotator)))
    if f.source:
        qs = qs.filter(Exists(notes.filter(source=f.source)))
    if f.annotated is not None:
        real = Exists(notes.filter(source__in=[AnnotationSource.HUMAN, AnnotationSource.IMPORT]))
        qs = qs.filter(real if f.annotated else ~real)
    if f.has_image is not None:
        qs = qs.exclude(image="") if f.has_image else qs.filter(image="")
    for key, value in f.meta:
        qs = qs.filter(_meta_q(key, value))
    if f.posted_after:
        qs = qs.filter(posted_at__gte=f.posted_after)
    if f.posted_before:
        qs = qs.filter(posted_at__lte=f.posted_before)
    if f.created_after:
        qs = qs.filter(created_at__gte=f.created_after)
    if f.created_before:
        qs = qs.filter(created_at__lte=f.created_before)
    if f.annotators_disagree:
        qs = qs.filter(_exists_for_example(
            f"EXISTS (SELECT 1 FROM {ann} a JOIN {ann} b ON b.example_id = a.example_id "
            f"AND b.id > a.id WHERE a.example_id = {{example}} AND a.source = 'human' "
            f"AND b.source = 'human' AND NOT {_same_annotation('a', 'b')})"
        ))
    version = None
    if f.model_disagrees or f.uses_score():
        version = current_version(project)
    if f.model_disagrees:
        if version is None:
            raise BrowseFilterInvalid("model_disagrees", "the project has no current model version.")
        qs = qs.filter(_exists_for_example(
            f"EXISTS (SELECT 1 FROM {pred} p JOIN {ann} a ON a.example_id = p.example_id "
            f"WHERE p.example_id = {{example}} AND p.model_version_id = {int(version.pk)} "
            f"AND a.source = 'human' AND NOT {_same_annotation('a', 'p')})"
        ))
    if f.uses_score():
        label = _score_label(project, f, version)
        score = Cast(KeyTextTransform(label, "scores"), FloatField())
        predictions = Prediction.objects.filter(
            example=OuterRef("pk"), model_version_id=getattr(version, "pk", None)
        )
        if f.score_min is not None or f.score_max is not None:
            ranged = predictions.annotate(s=score)
            if f.score_min is not None:
                ranged = ranged.filter(s__gte=f.score_min)
            if f.score_max is not None:
                ranged = ranged.filter(s__lte=f.score_max)
            qs = qs.filter(Exists(ranged))
        qs = qs.annotate(browse_score=Subquery(predictions.annotate(s=score).values("s")[:1]))
    order = {
        # Unscored examples last either way.
        "score": (F("browse_score").asc(nulls_last=True), "id"),
        "-score": (F("browse_score").desc(nulls_last=True), "id"),
        "posted_at": ("posted_at", "id"), "-posted_at": (F("posted_at").desc(nulls_last=True), "-id"),
        "created_at": ("created_at", "id"), "-created_at": ("-created_at", "-id"),
    }.get(f.sort, (f.sort,))
    return qs.order_by(*order)


@dataclass
class BrowsePage:
    rows: list[Example]
    page: int
    page_size: int
    has_next: bool
    # Matches counted up to COUNT_CAP; `count_capped` when there are more.
    count: int
    count_capped: bool
    version: Any | None = None
    # The `after` of the next page when the sort allows keyset pagination (by id).
    next_after: int | None = None

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def browse_page(project: Project, f: BrowseFilter) -> BrowsePage:
    """One page of `filtered_examples`, with annotations and current predictions prefetched."""
    from django.db.models import Prefetch

    qs = filtered_examples(project, f)
    start = (f.page - 1) * f.page_size
    version = current_version(project)
    prefetch = [Prefetch(
        "annotations", queryset=Annotation.objects.select_related("user").order_by("id"),
        to_attr="browse_annotations",
    )]
    if version is not None:
        prefetch.append(Prefetch(
            "predictions", queryset=Prediction.objects.filter(model_version=version),
            to_attr="browse_predictions",
        ))
    keyset = f.sort in ("id", "-id")
    if keyset and f.after is not None:
        # Rows after the previous page's last id instead of OFFSET: PostgreSQL walks the id index
        # from there, so page N costs page 1 (a rare full-text match on page 20 took 0.5 s with
        # OFFSET at 1M examples; see bench/browse.py).
        after_q = qs.filter(pk__gt=f.after) if f.sort == "id" else qs.filter(pk__lt=f.after)
        rows = list(after_q.prefetch_related(*prefetch)[:f.page_size + 1])
    else:
        rows = list(qs.prefetch_related(*prefetch)[start:start + f.page_size + 1])
    has_next = len(rows) > f.page_size
    rows = rows[:f.page_size]
    next_after = rows[-1].pk if keyset and has_next and rows else None
    ids = qs.order_by().values("pk")[:COUNT_CAP + 1]
    if has_next or (f.page > 1 and not rows):
        count = Example.objects.filter(pk__in=Subquery(ids)).count()
    else:  # the last page: everything before it was full
        count = start + len(rows)
    return BrowsePage(
        rows=rows, page=f.page, page_size=f.page_size, has_next=has_next,
        count=min(count, COUNT_CAP), count_capped=count > COUNT_CAP, version=version,
        next_after=next_after,
    )


def example_predictions(example: Example) -> list[dict[str, Any]]:
    """Every model version's prediction of `example`, newest version first: [{version,
    is_current, labels, spans, scores: [(label, score, threshold, above)]}]."""
    out = []
    for p in (Prediction.objects.filter(example=example).select_related("model_version")
              .order_by("-model_version_id")):
        thresholds = p.model_version.thresholds or {}
        scores = []
        for label, score in (p.scores or {}).items():
            t = thresholds.get(label) if isinstance(thresholds, dict) else None
            scores.append({"label": label, "score": score, "threshold": t,
                           "above": t is not None and isinstance(score, int | float) and score >= t})
        out.append({"version": p.model_version, "is_current": p.model_version.is_current,
                    "labels": p.labels, "spans": p.spans, "scores": scores})
    return out
