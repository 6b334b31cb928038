"""import -> export -> import (into a new project) gives back the same examples and
annotations, on a few hundred rows of each real shared dataset."""
from __future__ import annotations

import io

import pytest

from annotator.exporters import export_project
from annotator.importers import import_file
from annotator.models import Example
from tests.annotator.importers.conftest import (
    HATEVAL_EN,
    IDRISI_HARVEY,
    IDRISI_LABELS,
    T6_BOSTON,
    T26_LABELS,
    T26_YOLANDA,
    WNUT_DEV,
    WNUT_LABELS,
)
from tests.conftest import make_project

pytestmark = pytest.mark.django_db

CASES = {
    "crisislex-t6": (T6_BOSTON, 301, "csv", "binary", ("on-topic",), None),
    "crisislex-t26": (T26_YOLANDA, 301, "csv", "singlelabel", T26_LABELS, {"labels": "Informativeness"}),
    "hateval": (HATEVAL_EN, 301, "tsv", "multilabel", ("HS", "TR", "AG"), None),
    "wnut17": (WNUT_DEV, 4000, "conll", "spans", WNUT_LABELS, None),
    "idrisi": (IDRISI_HARVEY, 300, "jsonl", "spans", IDRISI_LABELS, None),
}


def snapshot(project, with_meta: bool = True) -> list[tuple]:
    rows = []
    for example in Example.objects.filter(project=project).order_by("id").prefetch_related("annotations"):
        annotation = example.annotations.filter(user=None).first()
        gold = None if annotation is None else (annotation.labels, annotation.spans, annotation.source)
        rows.append((example.text, example.external_id, example.meta if with_meta else None,
                     example.normalized_text, gold))
    return rows


def _export(project, fmt) -> io.BytesIO:
    out = io.StringIO()
    export_project(project, fmt, out)
    return io.BytesIO(out.getvalue().encode("utf-8"))


# conll keeps text exactly only when it is single-space separated tokens (WNUT-17 itself).
PAIRS = [(case, fmt) for case in CASES for fmt in ("jsonl", "csv")] + [("wnut17", "conll")]


@pytest.mark.parametrize(("case", "export_format"), PAIRS)
def test_import_export_import_gives_back_the_same_examples(case, export_format, owner, head):
    relative, lines, fmt, task_type, labels, mapping = CASES[case]
    source = make_project(owner, task_type, labels)
    first = import_file(source, head(relative, lines), fmt, mapping=mapping)
    assert first.imported > 100
    copy = make_project(owner, task_type, labels)
    second = import_file(copy, _export(source, export_format), export_format)
    assert (second.imported, second.duplicates) == (first.imported, 0)
    with_meta = export_format != "conll"
    assert snapshot(copy, with_meta) == snapshot(source, with_meta)
    assert all(row[-1] is not None for row in snapshot(copy))
