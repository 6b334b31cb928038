"""Issue 19's walk defects about counts: the annotate page's live progress line and the project
page count the same things the same way (annotator.services.progress), and the label
distribution counts each example once, by the label set it trains with."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from annotator.models import Annotation, AnnotationSource, Membership, Role
from annotator.services import progress
from models_zoo.services.datasets import gold_examples
from tests.conftest import make_project
from tests.web.helpers import HTMX, add_examples, client_for

pytestmark = pytest.mark.django_db


def _figure(html: str, element_id: str) -> int:
    """The number an element with this id shows (the first digits inside it)."""
    match = re.search(rf'id="{element_id}"[^>]*>\s*(\d+)', html)
    assert match, f"no #{element_id} figure in the page"
    return int(match.group(1))


def _current(html: str) -> int:
    return int(re.search(r'data-example="(\d+)"', html).group(1))


def _imported_project(owner, annotator_user, n=12):
    """The demo's shape: a binary project whose every example came with an imported label."""
    project = make_project(owner, "binary", labels=("on-topic",))
    Membership.objects.create(user=annotator_user, project=project, role=Role.ANNOTATOR)
    examples = add_examples(project, [f"tweet {i}" for i in range(n)])
    for i, example in enumerate(examples):
        Annotation.objects.create(example=example, user=None, source=AnnotationSource.IMPORT,
                                  labels=["on-topic"] if i % 2 else [])
    return project


def _forget_counts(project, *users) -> None:
    """A test database made again reuses project ids: drop what an earlier run cached for them."""
    cache.delete_many([progress._cache_key(project), *(progress._user_cache_key(project, u) for u in users)])


def test_the_annotate_page_and_the_project_page_agree_after_decisions_skips_and_undo(owner, annotator_user):
    project = _imported_project(owner, annotator_user)
    _forget_counts(project, annotator_user)
    c = client_for(annotator_user)
    annotate = reverse("annotate", args=[project.pk])
    html = c.get(annotate).content.decode()  # counts the project once: later pages are cached
    assert _figure(html, "imported-only") == 12
    for action in ("accept", "reject", "accept", "skip", "reject", "accept"):
        example = _current(html)
        html = c.post(reverse("annotate-example", args=[project.pk, example]),
                      {"action": action}, **HTMX).content.decode()
    html = c.post(reverse("annotate-undo", args=[project.pk]), **HTMX).content.decode()
    # 5 decisions, one undone, one skip: 4 examples labelled by the annotator.
    page = client_for(owner).get(reverse("project-detail", args=[project.pk])).content.decode()
    assert _figure(page, "count-annotated") == 4 and _figure(page, "count-imported") == 8
    assert _figure(page, "count-complete") == 4 and _figure(page, "count-total") == 12
    # The annotate page, served from its cache, shows the same figures under the same names.
    assert _figure(html, "imported-only") == _figure(page, "count-imported")
    assert _figure(html, "count-by-people") == _figure(page, "count-annotated")
    assert _figure(html, "count-complete") == _figure(page, "count-complete")
    assert _figure(html, "count-total") == 12 and _figure(html, "my-done") == 4
    assert "labelled by people" in html and "imported labels only" in html
    # ... and so does a later plain GET (another request, same cache).
    html = c.get(annotate).content.decode()
    assert _figure(html, "imported-only") == 8 and _figure(html, "my-done") == 4


def test_the_counts_a_decision_moved_are_the_ones_another_process_reads(owner, annotator_user):
    """`make run` serves pages from two gunicorn processes (and production from more): the
    cached figures a decision moved in one must be what the next request reads in another,
    not a per-process copy that disagrees for up to a minute."""
    project = _imported_project(owner, annotator_user)
    _forget_counts(project, annotator_user)
    c = client_for(annotator_user)
    html = c.get(reverse("annotate", args=[project.pk])).content.decode()
    html = c.post(reverse("annotate-example", args=[project.pk, _current(html)]),
                  {"action": "accept"}, **HTMX).content.decode()
    assert _figure(html, "count-by-people") == 1 and _figure(html, "my-done") == 1
    code = (
        "import json, sys, django; django.setup(); from django.core.cache import cache; "
        "counts, _ = cache.get(sys.argv[1]); "
        "print(json.dumps([counts.by_people, counts.imported, cache.get(sys.argv[2])]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    other = subprocess.run(
        [sys.executable, "-c", code, progress._cache_key(project),
         progress._user_cache_key(project, annotator_user)],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, check=True,
    )
    assert json.loads(other.stdout.strip().splitlines()[-1]) == [1, 11, 1]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_pages_count_from_the_database_when_the_shared_cache_does_not_answer(owner, annotator_user):
    project = _imported_project(owner, annotator_user)
    dead = {"BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0"}
    with override_settings(CACHES={"default": dead, "throttle": dead}):
        c = client_for(annotator_user)
        html = c.get(reverse("annotate", args=[project.pk])).content.decode()
        assert _figure(html, "imported-only") == 12
        r = c.post(reverse("annotate-example", args=[project.pk, _current(html)]),
                   {"action": "accept"}, **HTMX)
        assert r.status_code == 200
        html = r.content.decode()
        assert _figure(html, "count-by-people") == 1 and _figure(html, "imported-only") == 11


def test_the_label_distribution_counts_each_example_once_people_over_imports(owner, annotator_user):
    project = _imported_project(owner, annotator_user, n=6)  # 3 imported on-topic, 3 rejected
    examples = list(project.examples.order_by("id"))
    # People relabel two imported examples: one flips to on-topic, one to not on-topic.
    Annotation.objects.create(example=examples[0], user=annotator_user, labels=["on-topic"])
    Annotation.objects.create(example=examples[1], user=annotator_user, labels=[])
    page = client_for(owner).get(reverse("project-detail", args=[project.pk])).content.decode()
    accepted = int(re.search(r'on-topic</td><td class="num">(\d+)', page).group(1))
    rejected = int(re.search(r'not on-topic \(rejected\)</td><td class="num">(\d+)', page).group(1))
    # imported: 0 -, 1 +, 2 -, 3 +, 4 -, 5 +; people: 0 +, 1 -  =>  + {0, 3, 5}, - {1, 2, 4}
    assert (accepted, rejected) == (3, 3)
    assert accepted + rejected == 6  # each example once (it showed 8 for 6 examples)
    assert "6 examples with a label decision, each counted once" in page
    # The same gold the training run uses.
    golds = gold_examples(project)
    assert sum(1 for g in golds if g.labels == ["on-topic"]) == accepted


def test_several_annotators_count_once_by_their_majority(owner, annotator_user, viewer):
    project = make_project(owner, "multilabel", overlap=3)
    (one,) = add_examples(project, ["a tweet"])
    Annotation.objects.create(example=one, user=None, source=AnnotationSource.IMPORT, labels=["TR"])
    for user, labels in ((owner, ["HS", "AG"]), (annotator_user, ["HS"]), (viewer, ["HS", "TR"])):
        Annotation.objects.create(example=one, user=user, labels=labels)
    page = client_for(owner).get(reverse("project-detail", args=[project.pk])).content.decode()
    # Majority of the three people: HS only (AG and TR had one vote each; the import is outvoted).
    assert 'HS</td><td class="num">1</td>' in page
    assert 'TR</td><td class="num">0</td>' in page and 'AG</td><td class="num">0</td>' in page
