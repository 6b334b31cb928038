"""Tweet normalization. The raw text is always kept; this produces `Example.normalized_text`.

Every import normalises each row, so this is on the import's hot path (it was about 1.3 s per
100k tweets, a fifth of an import). The steps are the seed cards' regex substitutions, applied
in the same order, each skipped when a cheap substring test shows it cannot match: most tweets
have no `&` entity, many no mention or link. Literal replacements use `str.replace` and the
whitespace fold uses `str.split`, which splits on exactly the characters `\\s` matches in a str
pattern (str.isspace; checked over every code point in tests/annotator/test_normalize_fast.py).
The order is kept because each step can change what the next one sees (e.g. "http@x y": the
mention goes first and leaves a bare "http" that the URL rule does not match).
"""
from __future__ import annotations

import hashlib
import html
import re

_MENTION = re.compile(r"@[A-Za-z0-9_:]+")
_URL = re.compile(r"http\S+")
_SPACES = re.compile(r"\s+")


def strip_tweet(text: str) -> str:
    """Seeds 000/001 (`clean_tweet` in the XLM-T violence model cards): newlines to spaces,
    HTML unescape, drop @mentions, URLs and "RT "."""
    if "\n" in text:
        text = text.replace("\n", " ")
    if "&" in text:  # html.unescape changes nothing without an "&"
        text = html.unescape(text)
    if "@" in text:
        text = _MENTION.sub("", text)
    if "http" in text:
        text = _URL.sub("", text)
    if "RT " in text:
        text = text.replace("RT ", "")
    return " ".join(text.split())


def placeholder_tweet(text: str) -> str:
    """Seed 003 (BERTweet-style, as in the difficult-negatives paper): mentions become `@USER`
    and links `HTTPURL` instead of being dropped."""
    if "\n" in text:
        text = text.replace("\n", " ")
    if "&" in text:
        text = html.unescape(text)
    if "@" in text:
        text = _MENTION.sub("@USER", text)
    if "http" in text:
        text = _URL.sub("HTTPURL", text)
    return " ".join(text.split())


NORMALIZERS = {"strip": strip_tweet, "placeholders": placeholder_tweet}


def normalize(text: str, mode: str = "strip") -> str:
    try:
        return NORMALIZERS[mode](text)
    except KeyError:
        raise ValueError(
            f"unknown normalization {mode!r}; valid: {', '.join(sorted(NORMALIZERS))}"
        ) from None


def content_hash(normalized_text: str) -> str:
    """Dedupe key within a project: sha256 of the whitespace-folded, lower-cased normalized text."""
    key = " ".join(normalized_text.split()).lower()
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
