"""Every shared dataset imports as it is, full size (slow: run with `-m slow`)."""
from __future__ import annotations

import pytest

from annotator.importers import ImportFailed, import_file
from annotator.models import Annotation, Example
from tests.annotator.importers.conftest import IDRISI_LABELS, T26_LABELS, TRUMP, WNUT_LABELS
from tests.conftest import make_project

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _import_all(project, files, fmt, mapping=None) -> tuple[int, int]:
    imported = duplicates = 0
    for path in files:
        result = import_file(project, path, fmt, mapping=mapping)
        imported += result.imported
        duplicates += result.duplicates
    return imported, duplicates


def _check(project, imported):
    assert Example.objects.filter(project=project).count() == imported
    # Every imported example came with a label or spans in these files.
    assert Annotation.objects.filter(example__project=project, source="import").count() == imported


def test_all_of_crisislex_t6(owner, datasets_dir):
    project = make_project(owner, "binary", ("on-topic",))
    files = sorted(datasets_dir.glob("crisislex/CrisisLexT6/*/*.csv"))
    imported = duplicates = 0
    errors = []
    for path in files:
        result = import_file(project, path, "csv", on_error="skip")
        imported, duplicates = imported + result.imported, duplicates + result.duplicates
        errors += [(path.parent.name, e["line"], e["message"]) for e in result.errors]
    # Two tweets appear twice under one id with different texts (HTML entities and curly
    # quotes in one copy): reported, naming both lines, and left out.
    assert [(event, line) for event, line, _ in errors] == [
        ("2013_Alberta_Floods", 6737), ("2013_Queensland_Floods", 5534)]
    assert "is already used on line 2928 by a different text" in errors[0][2]
    assert len(files) == 6 and imported + duplicates + len(errors) == 60082
    _check(project, imported)


def test_all_of_crisislex_t26(owner, datasets_dir):
    project = make_project(owner, "singlelabel", T26_LABELS)
    files = sorted(datasets_dir.glob("crisislex/CrisisLexT26/*/*-tweets_labeled.csv"))
    imported, duplicates = _import_all(project, files, "csv", {"labels": "Informativeness"})
    assert len(files) == 26 and imported + duplicates == 27933
    _check(project, imported)


def test_all_of_hateval(owner, datasets_dir):
    project = make_project(owner, "multilabel", ("HS", "TR", "AG"))
    files = sorted(datasets_dir.glob("hateval2019/*.tsv"))
    imported, duplicates = _import_all(project, files, "tsv")
    assert imported + duplicates == 9000 + 4500 + 1000 + 500
    _check(project, imported)


def test_all_of_wnut17(owner, datasets_dir):
    project = make_project(owner, "spans", WNUT_LABELS)
    imported, duplicates = _import_all(project, sorted(datasets_dir.glob("wnut17/*.conll")), "conll")
    assert imported + duplicates == 3394 + 1009
    _check(project, imported)


def test_all_of_idrisi(owner, datasets_dir):
    project = make_project(owner, "spans", IDRISI_LABELS)
    files = sorted(datasets_dir.glob("idrisi_r/gold-random-json/*/*.jsonl"))
    imported, duplicates = _import_all(project, files, "jsonl")
    assert imported + duplicates == 14392 + 2056
    _check(project, imported)


def test_trump_imports_once_its_broken_row_is_the_only_error(owner, datasets_dir, tmp_path):
    project = make_project(owner, "binary", ("viral",))
    with pytest.raises(ImportFailed) as caught:
        import_file(project, datasets_dir / TRUMP, "csv")
    assert [e["line"] for e in caught.value.errors] == [14517]
    # The same file without its last (broken) line imports whole: 13,091 tweets.
    lines = (datasets_dir / TRUMP).read_text(encoding="utf-8").split("\n")
    fixed = tmp_path / "trump-fixed.csv"
    fixed.write_text("\n".join(lines[:14516]) + "\n", encoding="utf-8", newline="")
    result = import_file(project, fixed, "csv")
    assert result.imported + result.duplicates == 13091
