"""Progress counts per project and per annotator (project list, project page, annotate page).

Whole-project counts scan every example of a project, which is fine for the list pages but not
for every keystroke on the annotate page; `cached_project_counts` serves those from Django's
cache for a few seconds, while the annotator's own count is always live.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

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


def cached_project_counts(project: Project) -> ProjectCounts:
    """`project_counts` for one project, cached for PROJECT_COUNTS_TTL seconds."""
    key = f"vigia:project-counts:{project.pk}"
    counts = cache.get(key)
    if counts is None:
        counts = project_counts([project])[project.pk]
        cache.set(key, counts, PROJECT_COUNTS_TTL)
    return counts


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
