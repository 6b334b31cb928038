from __future__ import annotations

import io
import threading

import pytest
from django.db import connection

from annotator.importers import import_file
from annotator.models import Example
from tests.conftest import make_project, make_user


def _csv(texts: list[str]) -> bytes:
    return ("text\n" + "".join(f'"{t}"\n' for t in texts)).encode()


@pytest.mark.django_db(transaction=True)
def test_two_imports_with_overlapping_texts_into_one_project_both_land():
    project = make_project(make_user("owner"), "multilabel")
    shared = [f"flood warning number {i} for the river" for i in range(20000)]
    files = [
        _csv(shared + [f"only in file A {i}" for i in range(200)]),
        _csv(list(reversed(shared)) + [f"only in file B {i}" for i in range(200)]),
    ]
    results, errors = [], []
    barrier = threading.Barrier(2)

    def run(data: bytes) -> None:
        try:
            barrier.wait()
            results.append(import_file(project, io.BytesIO(data), "csv"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(r.imported for r in results) == [200, 20200]
    assert sorted(r.duplicates for r in results) == [0, 20000]
    assert Example.objects.filter(project=project).count() == 20400
