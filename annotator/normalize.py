"""Tweet normalization. The raw text is always kept; this produces `Example.normalized_text`."""
from __future__ import annotations

import hashlib
import html
import re

_MENTION = re.compile(r"@[A-Za-z0-9_:]+")
_URL = re.compile(r"http\S+")
_RT = re.compile(r"RT ")
_SPACES = re.compile(r"\s+")


def strip_tweet(text: str) -> str:
    """Seeds 000/001 (`clean_tweet` in the XLM-T violence model cards): newlines to spaces,
    HTML unescape, drop @mentions, URLs and "RT "."""
    text = text.replace("\n", " ")
    text = html.unescape(text)
    text = _MENTION.sub("", text)
    text = _URL.sub("", text)
    text = _RT.sub("", text)
    return _SPACES.sub(" ", text).strip()


def placeholder_tweet(text: str) -> str:
    """Seed 003 (BERTweet-style, as in the difficult-negatives paper): mentions become `@USER`
    and links `HTTPURL` instead of being dropped."""
    text = text.replace("\n", " ")
    text = html.unescape(text)
    text = _MENTION.sub("@USER", text)
    text = _URL.sub("HTTPURL", text)
    return _SPACES.sub(" ", text).strip()


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
    key = _SPACES.sub(" ", normalized_text).strip().lower()
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
