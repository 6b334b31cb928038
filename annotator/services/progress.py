"""Progress counts per project and per annotator (project list, project page, annotate page).

What is counted, in every page's words (one definition, `project_counts`):
- **examples**: every example of the project;
- **labelled by people**: examples with an annotation a person made (an annotator's decision
  or an admin's adjudication);
- **imported labels only**: examples whose only labels came from an import (or were mined as
  difficult negatives) and that no person has labelled yet;
- **complete**: examples that `overlap` annotators have finished (done assignments);
- **you: done**: the examples this annotator has finished.

Whole-project counts scan every example of a project, which is fine for the list pages but not
for every keystroke on the annotate page; `cached_project_counts` serves those from Django's
default cache for a few seconds (shared by every process: Redis, or a file cache under var/ for
the demo, so two gunicorn workers never show two figures; config/settings.py `CACHES`), and `tracking_decision` moves every cached figure by exactly what one
decision changed (the same predicates, for one example), so the annotate page agrees with the
project page after each decision instead of drifting until the next recount.
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache as _cache
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from annotator.models import (
    Annotation,
    AnnotationSource,
    Assignment,
    AssignmentStatus,
    Example,
    Project,
)


class _GuardedCache:
    """The default cache, or nothing: a cache that does not answer (Redis down, a file cache
    unwritable) makes the pages count from the database instead of failing."""

    def get(self, key: str) -> object | None:
        try:
            return _cache.get(key)
        except Exception:  # noqa: BLE001 - redis errors, OSError: any failure means "not cached"
            return None

    def set(self, key: str, value: object, timeout: int) -> None:
        try:
            _cache.set(key, value, timeout)
        except Exception:  # noqa: BLE001
            pass

    def incr(self, key: str, delta: int) -> None:
        """ValueError when the key is gone (as Django's), nothing when the cache fails."""
        try:
            _cache.incr(key, delta)
        except ValueError:
            raise
        except Exception:  # noqa: BLE001
            pass


cache = _GuardedCache()
PROJECT_COUNTS_TTL = 10  # seconds
USER_COUNT_TTL = 60  # seconds
# "Labelled by people" and "imported labels only" are told apart by these sources.
PEOPLE_SOURCES = (AnnotationSource.HUMAN, AnnotationSource.ADJUDICATED)
IMPORTED_SOURCES = (AnnotationSource.IMPORT, AnnotationSource.MINED)


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


def _annotations(sources: Iterable[str] | None = None) -> QuerySet[Annotation]:
    """Annotations of the outer example (optionally of these sources): the one predicate every
    count below uses."""
    qs = Annotation.objects.filter(example=OuterRef("pk"))
    return qs.filter(source__in=list(sources)) if sources is not None else qs


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
        .filter(Exists(_annotations()))
        .values("project_id")
        .annotate(n=Count("id"))
        .values_list("project_id", "n")
    )
    human = _annotations(PEOPLE_SOURCES)
    machine = _annotations(IMPORTED_SOURCES)
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
        # own decisions still move the cached figures at once (tracking_decision).
        ttl = max(PROJECT_COUNTS_TTL, int((time.monotonic() - started) * 100))
        cache.set(_cache_key(project), (counts, time.time() + ttl), ttl)
        return counts
    return entry[0]


@dataclass(frozen=True)
class ExampleShare:
    """What one example adds to each figure of `ProjectCounts` (0 or 1), and whether `user`
    has finished it: `project_counts`' predicates for a single example."""

    annotated: int
    by_people: int
    imported: int
    complete: int
    user_done: int


def example_share(project: Project, example_id: int, user: AbstractBaseUser) -> ExampleShare:
    """One query over one example's rows (indexed by example)."""
    done = (
        Assignment.objects.filter(example=OuterRef("pk"), status=AssignmentStatus.DONE)
        .order_by()
        .values("example")
        .annotate(n=Count("id"))
        .values("n")
    )
    row = (
        Example.objects.filter(pk=example_id)
        .annotate(
            any_=Exists(_annotations()),
            human=Exists(_annotations(PEOPLE_SOURCES)),
            machine=Exists(_annotations(IMPORTED_SOURCES)),
            done=Coalesce(Subquery(done, output_field=IntegerField()), Value(0)),
            mine=Exists(
                Assignment.objects.filter(
                    example=OuterRef("pk"), user=user, status=AssignmentStatus.DONE
                )
            ),
        )
        .values("any_", "human", "machine", "done", "mine")
        .first()
    )
    if row is None:  # deleted meanwhile: it counts for nothing
        return ExampleShare(0, 0, 0, 0, 0)
    return ExampleShare(
        annotated=int(row["any_"]),
        by_people=int(row["human"]),
        imported=int(row["machine"] and not row["human"]),
        complete=int(row["done"] >= project.overlap),
        user_done=int(row["mine"]),
    )


@contextmanager
def tracking_decision(project: Project, example: Example, user: AbstractBaseUser) -> Iterator[None]:
    """Wrap one decision on `example` (save, skip, undo, edit): afterwards the cached figures
    (the shared cache) move by exactly what the decision changed, so the annotate page's
    line follows the annotator at once without recounting the project. Costs two one-example
    queries, and none when nothing is cached. The periodic recount corrects everything else
    (other annotators, imports). Nothing moves when the block raises."""
    key, user_key = _cache_key(project), _user_cache_key(project, user)
    watched = cache.get(key) is not None or cache.get(user_key) is not None
    before = example_share(project, example.pk, user) if watched else None
    yield
    if before is None:
        return
    after = example_share(project, example.pk, user)
    if after.user_done != before.user_done:
        try:
            cache.incr(user_key, after.user_done - before.user_done)
        except ValueError:  # expired meanwhile: the next read counts
            pass
    entry = cache.get(key)
    if entry is None or after == before:
        return
    counts, expires_at = entry
    moved = replace(
        counts,
        annotated=counts.annotated + after.annotated - before.annotated,
        by_people=counts.by_people + after.by_people - before.by_people,
        imported=counts.imported + after.imported - before.imported,
        complete=counts.complete + after.complete - before.complete,
    )
    remaining = max(1, int(expires_at - time.time()))
    cache.set(key, (moved, expires_at), remaining)


def _user_cache_key(project: Project, user: AbstractBaseUser) -> str:
    return f"vigia:user-done:{project.pk}:{user.pk}"


def user_done_count(project: Project, user: AbstractBaseUser) -> int:
    """How many examples of `project` the user has finished.

    Counted once a minute (the count grows with the annotator's history) and moved by
    `tracking_decision` in between, so it follows every decision, whichever process serves it.
    """
    key = _user_cache_key(project, user)
    done = cache.get(key)
    if done is None:
        done = Assignment.objects.filter(
            user=user, status=AssignmentStatus.DONE, example__project=project
        ).count()
        cache.set(key, done, USER_COUNT_TTL)
    return done
