"""Fixtures for importer tests: slices of the sample datasets (tests/fixtures) and project factories."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import make_project

T6_BOSTON = "crisislex/CrisisLexT6/2013_Boston_Bombings/2013_Boston_Bombings-ontopic_offtopic.csv"
T26_YOLANDA = "crisislex/CrisisLexT26/2013_Typhoon_Yolanda/2013_Typhoon_Yolanda-tweets_labeled.csv"
T26_LABELS = (
    "Related and informative", "Related - but not informative", "Not related", "Not applicable",
)
HATEVAL_EN = "hateval2019/dev_en.tsv"
WNUT_DEV = "wnut17/emerging.dev.conll"
WNUT_LABELS = ("person", "location", "group", "corporation", "product", "creative-work")
IDRISI_HARVEY = "idrisi_r/gold-random-json/hurricane_harvey_2017/train.jsonl"
IDRISI_LABELS = (
    "Country", "State", "City/town", "Island", "Human-made Point-of-Interest", "County",
    "District", "Natural Point-of-Interest", "Continent", "Neighborhood", "Road/street",
    "Other locations",
)
TRUMP = "trump_tweets/trump_tweets.csv"


@pytest.fixture
def head(sample_datasets: Path, tmp_path: Path) -> Callable[[str, int], Path]:
    """head(relative_path, n): the first n physical lines of a sample file, in a temp file.
    For CoNLL files the cut is moved forward to the next sentence boundary."""

    def make(relative: str, n: int) -> Path:
        source = sample_datasets / relative
        out = tmp_path / f"head-{n}-{source.name}"
        with open(source, encoding="utf-8", newline="") as src, open(out, "w", encoding="utf-8", newline="") as dst:
            for i, line in enumerate(src):
                if i >= n and (source.suffix != ".conll" or not line.strip()):
                    break
                dst.write(line)
        return out

    return make


@pytest.fixture
def binary_project(owner):
    return make_project(owner, "binary", ("on-topic",))


@pytest.fixture
def t26_project(owner):
    return make_project(owner, "singlelabel", T26_LABELS)


@pytest.fixture
def wnut_project(owner):
    return make_project(owner, "spans", WNUT_LABELS)


@pytest.fixture
def idrisi_project(owner):
    return make_project(owner, "spans", IDRISI_LABELS)


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path
