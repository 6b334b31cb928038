"""Words with character offsets, and exact BIO <-> character-span mapping (no torch, no Django).

The span tagger (seed 003: BERTweet + BiLSTM + CRF) labels *words*; annotations and predictions
are character-offset spans into the raw text. This module is the bridge, and it is exact:
for a span whose start is a word start and whose end is a word end,
`bio_to_spans(words, spans_to_bio(words, [span]))` returns that span unchanged.

Tokenisation is deliberately fine-grained (URLs and @mentions whole, otherwise runs of word
characters and single punctuation marks) so that span boundaries found in real annotations
(IDRISI location mentions inside "#CaliforniaFires"-style hashtags, "Texas's", "U.S.") fall on
word boundaries as often as possible. Camel-case humps inside hashtags are split too, because
location annotations often cover only one part of a hashtag.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

OUTSIDE = "O"

# Order matters: URLs and mentions first (one word each, so a BERTweet-style encoder can see
# them as HTTPURL / @USER), then camel-case humps, digit runs, other word runs, single symbols.
_WORD_RE = re.compile(
    r"""
    (?:https?://|www\.)\S+                       # URL
  | @\w+                                         # @mention
  | [^\W\d_]*?[a-z](?=[A-Z])                     # camel-case hump ending before an upper case
  | [A-Z]+(?=[A-Z][a-z])                         # acronym before a capitalised word: "USAToday"
  | \d+(?:[.,:]\d+)*                             # numbers, times, decimals
  | [^\W\d_]+                                    # letters
  | _+                                           # underscores
  | [^\w\s]                                      # one symbol or punctuation mark
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Word:
    """One word of a text and its character offsets, `text[start:end] == word.text`."""

    text: str
    start: int
    end: int


def tokenize_words(text: str) -> list[Word]:
    """Split a tweet into words with exact character offsets (whitespace is never inside)."""
    return [Word(m.group(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]


def bio_tags(labels: Iterable[str]) -> list[str]:
    """The tag set for `labels`: "O", then "B-x", "I-x" for each label, in label order."""
    tags = [OUTSIDE]
    for label in labels:
        tags += [f"B-{label}", f"I-{label}"]
    return tags


def snap_span(words: Sequence[Word], start: int, end: int) -> tuple[int, int] | None:
    """Widen [start, end) to the words it overlaps; None when it overlaps no word."""
    covered = [w for w in words if w.start < end and w.end > start]
    if not covered:
        return None
    return covered[0].start, covered[-1].end


def spans_to_bio(
    words: Sequence[Word], spans: Sequence[dict[str, Any]]
) -> list[str]:
    """BIO tags over `words` for character-offset spans.

    A span covers every word it overlaps (so a span not on word boundaries is snapped outwards).
    When spans overlap, the first one (by start, longest first) wins and the later one is
    dropped: BIO cannot represent nesting.
    """
    tags = [OUTSIDE] * len(words)
    ordered = sorted(spans, key=lambda s: (int(s["start"]), -int(s["end"])))
    for span in ordered:
        start, end, label = int(span["start"]), int(span["end"]), str(span["label"])
        if end <= start:
            continue
        idx = [i for i, w in enumerate(words) if w.start < end and w.end > start]
        if not idx or any(tags[i] != OUTSIDE for i in idx):
            continue
        tags[idx[0]] = f"B-{label}"
        for i in idx[1:]:
            tags[i] = f"I-{label}"
    return tags


def bio_to_spans(
    text: str, words: Sequence[Word], tags: Sequence[str], scores: Sequence[float] | None = None
) -> list[dict[str, Any]]:
    """Character-offset spans from BIO tags over `words`.

    Lenient like conlleval/seqeval's default: an I-x that does not continue an x entity starts a
    new one. With `scores` (one per word) each span gets the mean of its words' scores.
    """
    if len(tags) != len(words):
        raise ValueError(f"{len(tags)} tags for {len(words)} words")
    spans: list[dict[str, Any]] = []
    current: list[int] = []
    current_label: str | None = None

    def close() -> None:
        if current_label is None or not current:
            return
        start, end = words[current[0]].start, words[current[-1]].end
        span: dict[str, Any] = {
            "start": start, "end": end, "label": current_label, "text": text[start:end]
        }
        if scores is not None:
            span["score"] = float(sum(scores[i] for i in current) / len(current))
        spans.append(span)

    for i, tag in enumerate(tags):
        prefix, _, label = tag.partition("-")
        if prefix == "I" and current_label == label:
            current.append(i)
            continue
        close()
        current, current_label = [], None
        if prefix in ("B", "I") and label:
            current, current_label = [i], label
    close()
    return spans


def on_word_boundaries(words: Sequence[Word], start: int, end: int) -> bool:
    """True when `start` is some word's start and `end` some word's end (the exact case)."""
    return any(w.start == start for w in words) and any(w.end == end for w in words)
