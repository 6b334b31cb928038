"""The project page's label distribution: how many examples carry each label, each example
counted once, by the label set it trains with (the training recipe's gold,
`annotator.gold.resolve_gold`)."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q

from annotator.gold import resolve_gold
from annotator.models import Annotation, AnnotationSource, Project, TaskType

# Annotations that can make an example's gold (annotator.gold.gold_examples
# leaves out only the model's suggestions).
GOLD_SOURCES = (AnnotationSource.ADJUDICATED, AnnotationSource.HUMAN, AnnotationSource.IMPORT,
                AnnotationSource.MINED)

# Each example's gold comes from its best tier of annotations (resolve_gold's order: an
# adjudication, else people, else an import, else a mined negative). Where that tier holds one
# annotation (an adjudication always counts as one: the first), that annotation is the gold,
# its labels restricted to the project's: counted here in SQL, so a corpus of imported labels
# (relabelled by people or not) costs one scan. `contested` lists the examples whose best tier
# holds several annotations (overlap > 1): `resolve_gold` itself decides those.
_CHOSEN = """
    WITH ranked AS (
        SELECT a.id, a.example_id,
               CASE a.source WHEN 'adjudicated' THEN 0 WHEN 'human' THEN 1 WHEN 'import' THEN 2
                             ELSE 3 END AS tier
        FROM annotator_annotation a JOIN annotator_example e ON e.id = a.example_id
        WHERE e.project_id = %(project)s AND a.source = ANY(%(sources)s)/*visible*/
    ), chosen AS (
        SELECT DISTINCT ON (example_id) example_id, id, tier,
               count(*) OVER (PARTITION BY example_id, tier) AS n
        FROM ranked ORDER BY example_id, tier, id
    ), single AS (
        SELECT example_id, id, tier FROM chosen WHERE n = 1 OR tier = 0
    )
"""
# `k`: the size of the example's label set (0: no label, a binary project's reject); whether
# it is an adjudication (which is the gold whatever its size, single-label projects included).
_SINGLE_SETS = _CHOSEN + """, lab AS (
        SELECT DISTINCT s.example_id, s.tier, l
        FROM single s JOIN annotator_annotation a ON a.id = s.id
        LEFT JOIN LATERAL jsonb_array_elements_text(a.labels) l ON l = ANY(%(labels)s)
    ), sized AS (
        SELECT tier = 0 AS adjudicated, l, count(l) OVER (PARTITION BY example_id) AS k FROM lab
    )
    SELECT adjudicated, k, l, count(*) FROM sized GROUP BY 1, 2, 3
"""
_SINGLE_SPANS = _CHOSEN + """, spans AS (
        SELECT DISTINCT s.example_id, (x->>'start')::int, (x->>'end')::int, x->>'label' AS l
        FROM single s JOIN annotator_annotation a ON a.id = s.id, jsonb_array_elements(a.spans) x
        WHERE x->>'label' = ANY(%(labels)s)
    )
    SELECT l, count(*) FROM spans GROUP BY l
    UNION ALL SELECT NULL, count(*) FROM single
"""
_CONTESTED = _CHOSEN + "SELECT example_id FROM chosen WHERE n > 1 AND tier > 0"


@dataclass(frozen=True)
class LabelDistribution:
    """Rows (label, colour, count) and how many examples they describe."""

    rows: list[tuple[str, str, int]]
    examples: int  # examples with a label decision, each counted once


def label_distribution(project: Project, only_user_id: int | None = None) -> LabelDistribution:
    """How many examples carry each label, each example counted once by the label set it trains
    with: the training recipe's gold (`annotator.gold.resolve_gold`): an admin's
    adjudication, else the annotators' decision (their majority when several), else the
    imported label or mined negative; model suggestions never count. Span projects count each
    gold span. Binary projects show the rejects (gold: not the label) beside the accepts.
    With `only_user_id` (the caller is an annotator: annotator.visibility) only that user's
    annotations and the user-less ones (imports) are read, so others' labels do not show.

    An example whose best tier holds one annotation is counted in SQL (that annotation is its
    gold); every example with several there goes through `resolve_gold` itself.
    """
    labels = list(project.labels.all())
    names = [label.name for label in labels]
    params = {"project": project.pk, "sources": [str(s) for s in GOLD_SOURCES], "labels": names,
              "only_user": only_user_id}
    visible = "" if only_user_id is None else " AND (a.user_id = %(only_user)s OR a.user_id IS NULL)"
    counts: Counter[str] = Counter()
    examples = rejected = 0
    spans_task = project.task_type == TaskType.SPANS
    with connection.cursor() as cur:
        if spans_task:
            cur.execute(_SINGLE_SPANS.replace("/*visible*/", visible), params)
            for label, n in cur.fetchall():
                if label is None:
                    examples += n
                else:
                    counts[label] += n
        else:
            cur.execute(_SINGLE_SETS.replace("/*visible*/", visible), params)
            per_size: Counter[int] = Counter()
            for adjudicated, size, label, n in cur.fetchall():
                if project.task_type == TaskType.SINGLELABEL and size != 1 and not adjudicated:
                    continue  # no single label: no gold (resolve_gold's plurality has no vote)
                if label is None:
                    rejected += n
                    examples += n
                else:
                    counts[label] += n
                    per_size[size] += n
            examples += sum(n // size for size, n in per_size.items())  # each set gave `size` rows
        cur.execute(_CONTESTED.replace("/*visible*/", visible), params)
        contested = [example_id for (example_id,) in cur.fetchall()]
    by_example: dict[int, list[Annotation]] = defaultdict(list)
    for start in range(0, len(contested), 5000):
        votes = (
            Annotation.objects.filter(example_id__in=contested[start:start + 5000], source__in=GOLD_SOURCES)
            .filter(Q() if only_user_id is None else Q(user_id=only_user_id) | Q(user__isnull=True))
            .only("id", "example_id", "source", "labels", "spans", "updated_at")
            .order_by("example_id", "id")
        )
        for annotation in votes:
            by_example[annotation.example_id].append(annotation)
    for votes_of_one in by_example.values():
        gold = resolve_gold(votes_of_one, project.task_type, names)
        if gold is None:
            continue
        examples += 1
        # Each label (each span) once per example, as the SQL above counts them.
        if spans_task:
            counts.update(label for _, _, label in {(s["start"], s["end"], s["label"]) for s in gold.spans})
        else:
            counts.update(set(gold.labels))
            rejected += not gold.labels
    rows = [(label.name, label.color, counts.get(label.name, 0)) for label in labels]
    if project.task_type == TaskType.BINARY and rows:
        rows.append((f"not {rows[0][0]} (rejected)", "#9ca3af", rejected))
    return LabelDistribution(rows=rows, examples=examples)
