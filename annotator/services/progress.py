"""Progress counts per project and per annotator (project list, project page, annotate page).

Whole-project counts scan every example of a project, which is fine for the list pages but not
for every keystroke on the annotate page; `cached_project_counts` serves those from Django's
cache for a few seconds, while the annotator's own count is always live.
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q

from annotator.models import (
    Annotation,
    AnnotationSource,
    Assignment,
    AssignmentStatus,
    Example,
    Project,
    TaskType,
)

PROJECT_COUNTS_TTL = 10  # seconds
USER_COUNT_TTL = 60  # seconds


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
    # Honest split of `annotated`: examples a person labelled, and examples whose only labels
    # came from an import (or mining) and that no person has looked at yet.
    by_people: int = 0
    imported: int = 0

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
    human = Annotation.objects.filter(
        example=OuterRef("pk"), source__in=[AnnotationSource.HUMAN, AnnotationSource.ADJUDICATED]
    )
    machine = Annotation.objects.filter(
        example=OuterRef("pk"), source__in=[AnnotationSource.IMPORT, AnnotationSource.MINED]
    )
    by_people = dict(
        Example.objects.filter(project_id__in=ids)
        .filter(Exists(human))
        .values("project_id")
        .annotate(n=Count("id"))
        .values_list("project_id", "n")
    )
    imported = dict(
        Example.objects.filter(project_id__in=ids)
        .filter(Exists(machine))
        .exclude(Exists(human))
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
            by_people=by_people.get(p.pk, 0),
            imported=imported.get(p.pk, 0),
        )
        for p in projects
    }


def _cache_key(project: Project) -> str:
    return f"vigia:project-counts:{project.pk}"


def cached_project_counts(project: Project) -> ProjectCounts:
    """`project_counts` for one project, recomputed at most every PROJECT_COUNTS_TTL seconds."""
    entry = cache.get(_cache_key(project))
    if entry is None:
        started = time.monotonic()
        counts = project_counts([project])[project.pk]
        # A recount of a million-example project takes a noticeable fraction of a second: keep
        # such results longer so at most ~1% of the time goes to recounting. The annotator's
        # own decisions still move the cached figures at once (record_decision).
        ttl = max(PROJECT_COUNTS_TTL, int((time.monotonic() - started) * 100))
        cache.set(_cache_key(project), (counts, time.time() + ttl), ttl)
        return counts
    return entry[0]


def record_decision(
    project: Project,
    example: Example,
    user: AbstractBaseUser,
    *,
    was_done: bool,
    now_done: bool,
) -> None:
    """Move the cached counts by one decision (this process's cache), so the annotate page's
    bar follows the annotator at once without recounting the project. Cheap: two indexed
    counts over one example's rows. The periodic recount corrects anything else."""
    if was_done == now_done:
        return
    user_key = _user_cache_key(project, user)
    try:
        cache.incr(user_key, 1 if now_done else -1)
    except ValueError:  # not cached: the next read counts
        pass
    key = _cache_key(project)
    entry = cache.get(key)
    if entry is None:
        return
    counts, expires_at = entry
    with connection.cursor() as cur:  # one round trip for both counts
        cur.execute(
            "SELECT (SELECT COUNT(*) FROM annotator_assignment WHERE example_id = %s AND status = %s),"
            " (SELECT COUNT(*) FROM annotator_annotation WHERE example_id = %s)",
            [example.pk, AssignmentStatus.DONE.value, example.pk],
        )
        done, annotations = cur.fetchone()
    complete, annotated = counts.complete, counts.annotated
    if now_done:
        complete += done == project.overlap
        annotated += annotations == 1
    else:
        complete -= done == project.overlap - 1
        annotated -= annotations == 0
    remaining = max(1, int(expires_at - time.time()))
    cache.set(key, (replace(counts, complete=complete, annotated=annotated), expires_at), remaining)


def _user_cache_key(project: Project, user: AbstractBaseUser) -> str:
    return f"vigia:user-done:{project.pk}:{user.pk}"


def user_done_count(project: Project, user: AbstractBaseUser) -> int:
    """How many examples of `project` the user has finished.

    Counted once a minute (the count grows with the annotator's history) and moved by
    `record_decision` in between, so it follows every decision made through this process.
    """
    key = _user_cache_key(project, user)
    done = cache.get(key)
    if done is None:
        done = Assignment.objects.filter(
            user=user, status=AssignmentStatus.DONE, example__project=project
        ).count()
        cache.set(key, done, USER_COUNT_TTL)
    return done


def label_distribution(project: Project, only_user_id: int | None = None) -> list[tuple[str, str, int]]:
    """(label, colour, count) for every label: document labels, or span labels for span tasks.
    With `only_user_id` (the caller is an annotator: annotator.visibility) only that user's
    annotations and the imported ones are counted.

    PostgreSQL unnests the JSON arrays in SQL; other databases (the embedded SQLite default)
    count in Python.
    """
    counts: Counter[str] = Counter()
    mine = "" if only_user_id is None else " AND (a.user_id = %s OR a.user_id IS NULL)"
    who = [] if only_user_id is None else [only_user_id]
    visible = Q() if only_user_id is None else Q(user_id=only_user_id) | Q(user__isnull=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                f"""
                SELECT l, COUNT(*) FROM (
                    SELECT jsonb_array_elements_text(a.labels) AS l
                    FROM annotator_annotation a JOIN annotator_example e ON e.id = a.example_id
                    WHERE e.project_id = %s AND a.source <> 'adjudicated'{mine}
                    UNION ALL
                    SELECT s->>'label' AS l
                    FROM annotator_annotation a JOIN annotator_example e ON e.id = a.example_id,
                         jsonb_array_elements(a.spans) AS s
                    WHERE e.project_id = %s AND a.source <> 'adjudicated'{mine}
                ) t GROUP BY l
                """,
                [project.pk, *who, project.pk, *who],
            )
            counts.update({name: n for name, n in cur.fetchall()})
    else:
        # An adjudication restates votes already counted: left out, like in the SQL above.
        for labels, spans in Annotation.objects.filter(example__project=project).filter(visible).exclude(
            source=AnnotationSource.ADJUDICATED
        ).values_list(
            "labels", "spans"
        ):
            counts.update(labels or [])
            counts.update(s.get("label") for s in spans or [] if isinstance(s, dict))
    rows = [(label.name, label.color, counts.get(label.name, 0)) for label in project.labels.all()]
    if project.task_type == TaskType.BINARY and rows:
        # Binary: [] is a decision too (reject); show it beside the accepts.
        rejected = (
            Annotation.objects.filter(example__project=project, labels=[])
            .filter(visible)
            .exclude(source__in=[AnnotationSource.MODEL, AnnotationSource.ADJUDICATED])
            .count()
        )
        rows.append((f"not {rows[0][0]} (rejected)", "#9ca3af", rejected))
    return rows
