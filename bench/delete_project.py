"""Deleting a large project before and after issue 21, same project, same run: the ORM's
cascade with per-row receivers (one UPDATE of the embedding store's deletion counter per
example, one proposals refresh per annotation) against one DELETE per table by project, the
counter bumped by a statement-level trigger.

    nice .venv/bin/python bench/delete_project.py [--examples 500000] [--db vigia_bench_delete]

Creates and migrates its own database. For each variant it builds the same project in SQL:
`--examples` examples, an embedding set (the counter's row), a current model version with one
prediction per example (posted over a year, so the index's daily counts hold ~365 rows) and an
annotation on every 20th example; then times `delete_project` (the service behind the page,
REST and CLI) against `project.delete()` with the old receivers reconnected and the triggers
disabled (the index triggers did not exist then either), which reproduces the code before
issue 21. Prints seconds for each and the ratio, one figure per line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# bench/queue.py would shadow the stdlib `queue`: keep bench/ off sys.path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

from bench.queue import setup_django  # noqa: E402

os.environ.setdefault("VIGIA_SECRET_KEY", "bench-only-key-delete")
PROJECT_NAME = "bench delete"
INDEX_TRIGGERS = (
    "vigia_index_predictions_insert",
    "vigia_index_predictions_update",
    "vigia_index_predictions_delete",
)


def build(n: int):
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from annotator.models import Label, Project
    from annotator.models_embeddings import EmbeddingSet
    from models_zoo.models import ModelVersion

    user, _ = get_user_model().objects.get_or_create(username="bench-delete")
    t0 = time.perf_counter()
    with transaction.atomic():
        project = Project.objects.create(name=PROJECT_NAME, task_type="multilabel")
        for i, name in enumerate(("HS", "TR", "AG")):
            Label.objects.create(project=project, name=name, order=i)
        EmbeddingSet.objects.create(project=project, state="ready")
        version = ModelVersion.objects.create(
            project=project, backend="bench", artifact_dir="-", labels=["HS", "TR", "AG"],
            is_current=True,
        )
        with connection.cursor() as cur:
            cur.execute(
                """
                INSERT INTO annotator_example (project_id, text, normalized_text, meta, external_id,
                    content_hash, image, queue_key, assigned_count, posted_at, created_at)
                SELECT %s, 'tweet ' || g || ' about the flood and the river',
                       'tweet ' || g || ' about the flood and the river',
                       jsonb_build_object('retweet_count', g %% 97), g::text, md5(g::text), '',
                       random(), 0, timestamptz '2018-01-01' + (g %% 365) * interval '1 day', now()
                FROM generate_series(1, %s) AS g
                """,
                [project.pk, n],
            )
            cur.execute(
                """
                INSERT INTO models_zoo_prediction (example_id, model_version_id, scores, labels,
                    spans, created_at)
                SELECT id, %s, jsonb_build_object('HS', queue_key), CASE WHEN queue_key > 0.7
                       THEN '["HS"]'::jsonb ELSE '[]'::jsonb END, '[]'::jsonb, now()
                FROM annotator_example WHERE project_id = %s
                """,
                [version.pk, project.pk],
            )
            cur.execute(
                """
                INSERT INTO annotator_annotation (example_id, user_id, labels, spans, source,
                    created_at, updated_at)
                SELECT id, %s, '["HS"]'::jsonb, '[]'::jsonb, 'human', now(), now()
                FROM annotator_example WHERE project_id = %s AND id %% 20 = 0
                """,
                [user.pk, project.pk],
            )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"built {n} examples in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return project


def legacy(on: bool) -> None:
    """The code before issue 21: `project.delete()` through the ORM's cascade, a post_delete
    receiver bumping the counter once per example, mined proposals refreshed once per deleted
    human annotation, and no triggers (neither the counter's nor the index's)."""
    from django.db import connection
    from django.db.models import F
    from django.db.models.signals import post_delete

    from annotator.mining.proposals import refresh_proposals
    from annotator.models import Annotation, Example
    from annotator.models_embeddings import EmbeddingSet

    def count_deletion(sender, instance, **kwargs) -> None:
        EmbeddingSet.objects.filter(project_id=instance.project_id).update(
            deletions=F("deletions") + 1
        )

    def refresh(sender, instance, **kwargs) -> None:
        if instance.source == "human":
            refresh_proposals(instance.example_id)

    state = "DISABLE" if on else "ENABLE"
    with connection.cursor() as cur:
        cur.execute(f"ALTER TABLE annotator_example {state} TRIGGER vigia_count_example_deletions")
        for name in INDEX_TRIGGERS:
            cur.execute(f"ALTER TABLE models_zoo_prediction {state} TRIGGER {name}")
    if on:
        post_delete.connect(count_deletion, sender=Example, dispatch_uid="bench_legacy_counter",
                            weak=False)
        post_delete.connect(refresh, sender=Annotation, dispatch_uid="bench_legacy_refresh",
                            weak=False)
    else:
        post_delete.disconnect(sender=Example, dispatch_uid="bench_legacy_counter")
        post_delete.disconnect(sender=Annotation, dispatch_uid="bench_legacy_refresh")


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500_000)
    parser.add_argument("--db", default="vigia_bench_delete")
    args = parser.parse_args()
    setup_django(args.db)
    from annotator.models import Project

    for leftover in Project.objects.filter(name=PROJECT_NAME):  # an interrupted run
        leftover.delete()
    from annotator.services.project_setup import delete_project

    legacy(True)
    try:
        project = build(args.examples)
        before = timed(project.delete)
    finally:
        legacy(False)
    project = build(args.examples)
    after = timed(lambda: delete_project(project, confirm_name=project.name))
    print(f"delete_examples {args.examples}")
    print(f"delete_project_orm_cascade_per_row_s {before:.1f}")
    print(f"delete_project_set_based_s {after:.1f}")
    print(f"delete_project_before_vs_after {before / after:.1f}x")
    print(f"load_average_1min {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")


if __name__ == "__main__":
    main()
