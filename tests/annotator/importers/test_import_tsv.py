"""TSV import: HatEval layout (quoting disabled, HS/TR/AG 0/1 columns as a multilabel annotation)."""
from __future__ import annotations

import pytest

from annotator.importers import ImportFailed, import_file
from annotator.models import Example
from tests.annotator.importers.conftest import HATEVAL_EN, write

pytestmark = pytest.mark.django_db


def test_it_turns_hateval_zero_one_columns_into_label_lists(project, head):
    path = head(HATEVAL_EN, 301)
    result = import_file(project, path, "tsv")
    assert result.imported + result.duplicates == 300
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()][1:]
    for row in rows[:50]:
        example = Example.objects.get(project=project, external_id=row[0])
        assert example.text == row[1]  # quotes inside the text survive: quoting is off
        expected = [name for name, flag in zip(("HS", "TR", "AG"), row[2:5]) if flag == "1"]
        assert example.annotations.get().labels == expected


def test_it_keeps_quote_characters_in_tsv_text(project, tmp_path):
    path = write(tmp_path, "q.tsv", 'id\ttext\tHS\tTR\tAG\n1\t"quoted" and "more\t1\t0\t1\n')
    import_file(project, path, "tsv")
    example = Example.objects.get(project=project)
    assert example.text == '"quoted" and "more'
    assert example.annotations.get().labels == ["HS", "AG"]


def test_it_rejects_a_flag_that_is_not_zero_or_one(project, tmp_path):
    path = write(tmp_path, "bad.tsv", "id\ttext\tHS\tTR\tAG\n1\tfine\t1\t0\t0\n2\tbad\t1\tmaybe\t0\n")
    with pytest.raises(ImportFailed) as caught:
        import_file(project, path, "tsv")
    assert caught.value.errors[0]["line"] == 3
    assert "'TR'" in caught.value.errors[0]["message"] and "maybe" in caught.value.errors[0]["message"]
    assert not Example.objects.filter(project=project).exists()
