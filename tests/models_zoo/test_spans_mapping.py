"""Words with offsets and the BIO <-> character-span mapping, exhaustively on real tweets
(WNUT-17 train + dev, every IDRISI location mention: the samples in tests/fixtures by default,
the full shared sets with `-m slow` or VIGIA_DATASETS_DIR) plus the edge cases by hand."""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from models_zoo.backends._spans import (
    bio_tags,
    bio_to_spans,
    on_word_boundaries,
    snap_span,
    spans_to_bio,
    tokenize_words,
)


def read_wnut(path: Path) -> list[tuple[str, list[dict]]]:
    """(text, spans) per tweet: tokens joined by single spaces, spans from the BIO column."""
    tweets, tokens, tags = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():  # separator lines are empty or a lone tab
            if tokens:
                tweets.append(_wnut_tweet(tokens, tags))
            tokens, tags = [], []
            continue
        token, tag = line.split("\t")
        tokens.append(token)
        tags.append(tag)
    return tweets


def _wnut_tweet(tokens: list[str], tags: list[str]) -> tuple[str, list[dict]]:
    text, starts = "", []
    for token in tokens:
        starts.append(len(text) + (1 if text else 0))
        text = f"{text} {token}" if text else token
    spans: list[dict] = []
    for i, tag in enumerate(tags):
        if tag.startswith("B-") or (tag.startswith("I-") and (not spans or tags[i - 1][2:] != tag[2:]
                                                              or tags[i - 1] == "O")):
            spans.append({"start": starts[i], "end": starts[i] + len(tokens[i]), "label": tag[2:]})
        elif tag.startswith("I-"):
            spans[-1]["end"] = starts[i] + len(tokens[i])
    return text, spans


def _core(spans: list[dict]) -> list[tuple[int, int, str]]:
    return [(s["start"], s["end"], s["label"]) for s in spans]


FULL = pytest.param("full", marks=[pytest.mark.slow, pytest.mark.datasets])


@pytest.fixture(params=["sample", FULL])
def data(request: pytest.FixtureRequest) -> tuple[Path, bool]:
    """(datasets folder, is it the full set?)"""
    full = request.param == "full"
    return request.getfixturevalue("datasets_dir" if full else "sample_datasets"), full


@pytest.mark.parametrize("filename", ["wnut17train.conll", "emerging.dev.conll"])
def test_wnut_spans_survive_bio_and_back_exactly(data: tuple[Path, bool], filename: str) -> None:
    datasets_dir, full = data
    tweets = read_wnut(datasets_dir / "wnut17" / filename)
    assert len(tweets) > (1000 if full else 100)
    n_spans = 0
    for text, spans in tweets:
        words = tokenize_words(text)
        assert all(text[w.start:w.end] == w.text and w.text.strip() == w.text for w in words)
        for s in spans:
            assert on_word_boundaries(words, s["start"], s["end"]), (text, s)
        back = bio_to_spans(text, words, spans_to_bio(words, spans))
        assert _core(back) == _core(spans), text
        n_spans += len(spans)
    assert n_spans > (500 if full else 30)


def test_idrisi_location_mentions_survive_bio_and_back_exactly(data: tuple[Path, bool]) -> None:
    datasets_dir, full = data
    files = sorted((datasets_dir / "idrisi_r" / "gold-random-json").glob("*/*.jsonl"))
    assert len(files) >= (19 if full else 2)
    total = on_boundary = 0
    for path in files:
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            row = json.loads(line)
            text, words = row["text"], tokenize_words(row["text"])
            spans = [{"start": m["start_offset"], "end": m["end_offset"], "label": m["type"]}
                     for m in row["location_mentions"]]
            exact = [s for s in spans if on_word_boundaries(words, s["start"], s["end"])]
            total, on_boundary = total + len(spans), on_boundary + len(exact)
            for s in exact:  # each span alone: identity
                back = bio_to_spans(text, words, spans_to_bio(words, [s]))
                assert _core(back) == _core([s]), f"{path}:{line_no}"
            # All of a tweet's (non-overlapping) spans together: identity too.
            exact.sort(key=lambda s: s["start"])
            if all(a["end"] <= b["start"] for a, b in itertools.pairwise(exact)):
                back = bio_to_spans(text, words, spans_to_bio(words, exact))
                assert _core(back) == _core(exact), f"{path}:{line_no}"
    assert total > (15000 if full else 250)
    # Fine-grained words put virtually every real annotation on word boundaries (the one known
    # exception in the data is a flag emoji whose end offset lies past the end of the text).
    assert on_boundary / total > (0.999 if full else 0.99)


def test_it_keeps_urls_and_mentions_whole_and_splits_hashtags_and_camel_case() -> None:
    text = "RT @nycgov: #CaliforniaFires near USAToday's office https://t.co/Ab1?x=2 U.S."
    assert [w.text for w in tokenize_words(text)] == [
        "RT", "@nycgov", ":", "#", "California", "Fires", "near", "USA", "Today", "'", "s",
        "office", "https://t.co/Ab1?x=2", "U", ".", "S", ".",
    ]


def test_it_snaps_spans_that_cut_a_word_outwards() -> None:
    text = "floods in Texas's south"
    words = tokenize_words(text)
    assert snap_span(words, 11, 14) == (10, 15)  # "exa" -> "Texas"
    assert snap_span(words, 9, 10) is None  # the space before "Texas"
    tags = spans_to_bio(words, [{"start": 11, "end": 14, "label": "LOC"}])
    assert bio_to_spans(text, words, tags) == [{"start": 10, "end": 15, "label": "LOC", "text": "Texas"}]


def test_overlapping_spans_keep_the_first_and_longest() -> None:
    text = "New York City flooded"
    words = tokenize_words(text)
    spans = [{"start": 4, "end": 8, "label": "STATE"}, {"start": 0, "end": 13, "label": "CITY"}]
    assert spans_to_bio(words, spans) == ["B-CITY", "I-CITY", "I-CITY", "O"]


def test_stray_inside_tags_start_an_entity_like_seqeval() -> None:
    text = "Paris Lima Quito"
    words = tokenize_words(text)
    spans = bio_to_spans(text, words, ["I-LOC", "B-PER", "I-LOC"], scores=[0.5, 1.0, 0.25])
    assert [(s["text"], s["label"], s["score"]) for s in spans] == [
        ("Paris", "LOC", 0.5), ("Lima", "PER", 1.0), ("Quito", "LOC", 0.25)]


def test_adjacent_entities_of_one_type_stay_apart() -> None:
    text = "Paris Lima"
    words = tokenize_words(text)
    spans = [{"start": 0, "end": 5, "label": "LOC"}, {"start": 6, "end": 10, "label": "LOC"}]
    tags = spans_to_bio(words, spans)
    assert tags == ["B-LOC", "B-LOC"]
    assert _core(bio_to_spans(text, words, tags)) == _core(spans)


def test_empty_text_has_no_words_and_no_spans() -> None:
    assert tokenize_words("   ") == []
    assert bio_to_spans("", [], []) == []
    assert bio_tags(["LOC", "PER"]) == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def test_mismatched_tag_count_is_an_error() -> None:
    with pytest.raises(ValueError, match="2 tags for 1 words"):
        bio_to_spans("x", tokenize_words("x"), ["O", "O"])
