"""The label distribution counts each example once by its training gold: the SQL fast path
(one annotation in the example's best tier) and `resolve_gold` (several) together give exactly
what counting `models_zoo.services.datasets.gold_examples` gives, on every task type."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from annotator.models import Annotation, AnnotationSource
from annotator.services.label_distribution import label_distribution
from models_zoo.services.datasets import gold_examples
from tests.conftest import make_project, make_user
from tests.web.helpers import add_examples

pytestmark = pytest.mark.django_db

LABELS = ("HS", "TR", "AG")


def _random_labels(rng, task_type):
    if task_type == "binary":
        return ["HS"] if rng.random() < 0.5 else []
    if task_type == "singlelabel":  # sometimes none or two: no single-label vote
        return list(rng.choice(LABELS + ("XX",), size=int(rng.choice([0, 1, 1, 1, 2])), replace=False))
    # duplicates and an unknown label are dropped by the gold rule
    return [str(x) for x in rng.choice(LABELS + ("XX",), size=int(rng.integers(0, 4)))]


def _random_spans(rng):
    out = []
    for _ in range(int(rng.integers(0, 3))):
        start = int(rng.integers(0, 3)) * 4
        out.append({"start": start, "end": start + 3, "label": str(rng.choice(LABELS + ("XX",)))})
    return out + out[:1]  # a repeated span counts once


def _expected(project):
    """Counted from the training gold: each label (span) once per example (an adjudication's gold
    keeps a label it names twice twice; training reads it once)."""
    counts: Counter[str] = Counter()
    golds = gold_examples(project)
    for gold in golds:
        if project.task_type == "spans":
            counts.update(label for _, _, label in {(s["start"], s["end"], s["label"]) for s in gold.spans})
        else:
            counts.update(set(gold.labels))
    rejected = sum(1 for g in golds if not g.labels)
    return counts, len(golds), rejected


@pytest.mark.parametrize("task_type", ["multilabel", "binary", "singlelabel", "spans"])
def test_the_distribution_is_the_count_of_the_training_gold(owner, task_type):
    rng = np.random.default_rng(19)
    labels = ("HS",) if task_type == "binary" else LABELS
    project = make_project(owner, task_type, labels=labels)
    people = [make_user(f"a{i}") for i in range(3)]
    def make(example, user, source):
        if task_type == "spans":
            Annotation.objects.create(example=example, user=user, source=source, spans=_random_spans(rng))
        else:
            Annotation.objects.create(example=example, user=user, source=source,
                                      labels=_random_labels(rng, task_type))

    for example in add_examples(project, [f"word word word word {i}" for i in range(120)]):
        machine = str(rng.choice(["import", "mined", "model", "none"]))
        if machine != "none":
            make(example, None, machine)
        for person in people[:int(rng.choice([0, 0, 1, 1, 2, 3]))]:  # 2: ties, 3: majorities
            make(example, person, AnnotationSource.HUMAN)
        if rng.random() < 0.1:
            make(example, owner, AnnotationSource.ADJUDICATED)
    counts, examples, rejected = _expected(project)
    distribution = label_distribution(project)
    assert distribution.examples == examples > 60
    rows = dict((name, n) for name, _, n in distribution.rows)
    for label in labels:
        assert rows[label] == counts[label], label
    if task_type == "binary":
        assert rows["not HS (rejected)"] == rejected and rows["HS"] + rejected == examples
