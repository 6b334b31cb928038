"""Progress counts per project and per annotator (project list, project page, annotate page).

Whole-project counts scan every example of a project, which is fine for the list pages but not
for every keystroke on the annotate page; `cached_project_counts` serves those from Django's
cache for a few seconds, while the annotator's own count is always live.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
import time
from dataclasses import dataclass, field, replace

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q

from annotator.models import Annotation, Assignment, AssignmentStatus, Example, Project

PROJECT_COUNTS_TTL = 10  # seconds


@dataclass(frozen=True)
class AnnotatorProgress:
    username: str
    done: int
    skipped: int
    assigned: int


@dataclass(frozen=True)
class ProjectCounts:
    total: int
    annotated: int  # examples with at least one annotation (any source)
    complete: int  # examples labelled by `overlap` annotators (done assignments)
    annotators: list[AnnotatorProgress] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return int(100 * self.complete / self.total) if self.total else 0


def annotator_progress(project_ids: Iterable[int]) -> dict[int, list[AnnotatorProgress]]:
    """Done / skipped / open assignments per annotator, for each project id."""
    rows = (
        Assignment.objects.filter(example__project_id__in=list(project_ids))
        .values("example__project_id", "user__username")
        .annotate(
            done=Count("id", filter=Q(status=AssignmentStatus.DONE)),
            skipped=Count("id", filter=Q(status=AssignmentStatus.SKIPPED)),
            assigned=Count("id", filter=Q(status=AssignmentStatus.ASSIGNED)),
        )
        .order_by("example__project_id", "-done", "user__username")
    )
    out: dict[int, list[AnnotatorProgress]] = defaultdict(list)
    for row in rows:
        out[row["example__project_id"]].append(
            AnnotatorProgress(row["user__username"], row["done"], row["skipped"], row["assigned"])
        )
    return out


def project_counts(projects: Iterable[Project]) -> dict[int, ProjectCounts]:
    """Counts for several projects in a handful of queries (the project list)."""
    projects = list(projects)
    ids = [p.pk for p in projects]
    totals = dict(
        Example.objects.filter(project_id__in=ids)
        .values("project_id")
        .annotate(n=Count("id"))
        .values_list("project_id", "n")
    )
    annotated = dict(
        Example.objects.filter(project_id__in=ids)
        .filter(Exists(Annotation.objects.filter(example=OuterRef("pk"))))
        .values("project_id")
        .annotate(n=Count("id"))
        .values_list("project_id", "n")
    )
    done_per_example = (
        Assignment.objects.filter(example__project_id__in=ids, status=AssignmentStatus.DONE)
        .values("example_id", "example__project_id", "example__project__overlap")
        .annotate(n=Count("id"))
    )
    complete: Counter[int] = Counter()
    for row in done_per_example.iterator():
        if row["n"] >= row["example__project__overlap"]:
            complete[row["example__project_id"]] += 1
    people = annotator_progress(ids)
    return {
        p.pk: ProjectCounts(
            total=totals.get(p.pk, 0),
            annotated=annotated.get(p.pk, 0),
            complete=complete[p.pk],
            annotators=people.get(p.pk, []),
        )
        for p in projects
    }


def _cache_key(project: Project) -> str:
    return f"vigia:project-counts:{project.pk}"


def cached_project_counts(project: Project) -> ProjectCounts:
    """`project_counts` for one project, recomputed at most every PROJECT_COUNTS_TTL seconds."""
    entry = cache.get(_cache_key(project))
    if entry is None:
        counts = project_counts([project])[project.pk]
        cache.set(_cache_key(project), (counts, time.time() + PROJECT_COUNTS_TTL), PROJECT_COUNTS_TTL)
        return counts
    return entry[0]


def record_decision(project: Project, example: Example, *, was_done: bool, now_done: bool) -> None:
    """Move the cached counts by one decision (this process's cache), so the annotate page's
    bar follows the annotator at once without recounting the project. Cheap: two indexed
    counts over one example's rows. The periodic recount corrects anything else."""
    key = _cache_key(project)
    entry = cache.get(key)
    if entry is None or was_done == now_done:
        return
    counts, expires_at = entry
    done = Assignment.objects.filter(example=example, status=AssignmentStatus.DONE).count()
    annotations = Annotation.objects.filter(example=example).count()
    complete, annotated = counts.complete, counts.annotated
    if now_done:
        complete += done == project.overlap
        annotated += annotations == 1
    else:
        complete -= done == project.overlap - 1
        annotated -= annotations == 0
    remaining = max(1, int(expires_at - time.time()))
    cache.set(key, (replace(counts, complete=complete, annotated=annotated), expires_at), remaining)


def user_done_count(project: Project, user: AbstractBaseUser) -> int:
    """How many examples of `project` the user has finished (live)."""
    return Assignment.objects.filter(
        user=user, status=AssignmentStatus.DONE, example__project=project
    ).count()


def label_distribution(project: Project) -> list[tuple[str, str, int]]:
    """(label, colour, count) for every label: document labels, or span labels for span tasks.

    PostgreSQL unnests the JSON arrays in SQL; other databases (the embedded SQLite default)
    count in Python.
    """
    counts: Counter[str] = Counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                """
                SELECT l, COUNT(*) FROM (
                    SELECT jsonb_array_elements_text(a.labels) AS l
                    FROM annotator_annotation a JOIN annotator_example e ON e.id = a.example_id
                    WHERE e.project_id = %s
                    UNION ALL
                    SELECT s->>'label' AS l
                    FROM annotator_annotation a JOIN annotator_example e ON e.id = a.example_id,
                         jsonb_array_elements(a.spans) AS s
                    WHERE e.project_id = %s
                ) t GROUP BY l
                """,
                [project.pk, project.pk],
            )
            counts.update({name: n for name, n in cur.fetchall()})
    else:
        for labels, spans in Annotation.objects.filter(example__project=project).values_list(
            "labels", "spans"
        ):
            counts.update(labels or [])
            counts.update(s.get("label") for s in spans or [] if isinstance(s, dict))
    return [(label.name, label.color, counts.get(label.name, 0)) for label in project.labels.all()]
