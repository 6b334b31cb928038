"""CoNLL import: WNUT-17 BIO tokens become text joined by spaces plus character spans."""
from __future__ import annotations

import pytest

from annotator.importers import ImportFailed, import_file
from annotator.models import Example
from tests.annotator.importers.conftest import WNUT_DEV, write

pytestmark = pytest.mark.django_db


def _sentences(path):
    sentences, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if current:
                sentences.append(current)
            current = []
        else:
            token, tag = line.split("\t")
            current.append((token, tag))
    if current:
        sentences.append(current)
    return sentences


def test_it_turns_wnut_bio_tags_into_character_spans(wnut_project, head):
    path = head(WNUT_DEV, 1500)
    sentences = _sentences(path)
    result = import_file(wnut_project, path, "conll")
    assert result.imported + result.duplicates == len(sentences)
    with_entities = [s for s in sentences if any(tag != "O" for _, tag in s)]
    assert with_entities
    for sentence in with_entities[:20]:
        text = " ".join(token for token, _ in sentence)
        example = Example.objects.get(project=wnut_project, text=text)
        spans = example.annotations.get().spans
        entity_tokens = [(t, tag[2:]) for t, tag in sentence if tag != "O"]
        covered = " ".join(text[s["start"]:s["end"]] for s in spans)
        assert covered == " ".join(t for t, _ in entity_tokens)
        assert {s["label"] for s in spans} == {label for _, label in entity_tokens}


def test_it_splits_adjacent_entities_at_b_tags_and_reads_ids(wnut_project, tmp_path):
    content = "# id = t1\nNew\tB-location\nYork\tI-location\nParis\tB-location\nrocks\tO\n\t\nBob\tI-person\n"
    import_file(wnut_project, write(tmp_path, "a.conll", content), "conll")
    first = Example.objects.get(project=wnut_project, external_id="t1")
    assert first.text == "New York Paris rocks"
    assert first.annotations.get().spans == [
        {"start": 0, "end": 8, "label": "location"}, {"start": 9, "end": 14, "label": "location"}]
    second = Example.objects.get(project=wnut_project, text="Bob")
    assert second.annotations.get().spans == [{"start": 0, "end": 3, "label": "person"}]


def test_it_names_the_line_of_a_bad_tag(wnut_project, tmp_path):
    content = "a\tO\nb\tB-person\n\nc\tX-person\n\nd\tB-ghost\n"
    with pytest.raises(ImportFailed) as caught:
        import_file(wnut_project, write(tmp_path, "b.conll", content), "conll")
    assert [e["line"] for e in caught.value.errors] == [4, 6]
    assert "not BIO" in caught.value.errors[0]["message"]
    assert "unknown label 'ghost'" in caught.value.errors[1]["message"]
