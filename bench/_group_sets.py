"""The shared sets with group hold-outs (issue 12, seed 003: evaluate on unseen events), encoded
ONCE with the packaged MiniLM and cached under /tmp, for `bench/defaults_grid.py` and
`bench/quality.py`.

- CrisisLex T6 (`t6`): binary `on-topic`; group = event; leave-one-event-out (6 folds).
- CrisisLex T26 (`t26`): binary `informative` (Informativeness == "Related and informative");
  group = event; the 26 events are dealt into 5 folds (seeded), each fold held out once.
- HatEval 2019 EN (`hateval`): binary `HS`; train -> dev (the official split is the "group";
  dev's label balance differs from train's).

Rows are subsampled (seeded) so the grid fits 2 shared CPU cores: the sizes are printed.
"""
from __future__ import annotations

import csv
import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotator.normalize import strip_tweet
from bench._data import DATASETS, crisislex_t6_events, read_crisislex_t6, read_hateval, subsample
from models_zoo.backends.base import Item

CACHE = Path("/tmp/vigia-h12-vectors")


@dataclass
class GroupSet:
    name: str
    label: str
    items: list[Item]
    groups: list[str]      # one per item (event, or "train"/"dev")
    folds: list[list[str]]  # each fold: the groups held out as the test side

    def y(self) -> np.ndarray:
        return np.array([1 if self.label in (i.labels or []) else 0 for i in self.items], dtype=np.int8)


def read_t26(event: str, n: int, seed: int = 0) -> list[Item]:
    folder = DATASETS / "crisislex" / "CrisisLexT26" / event
    path = next(folder.glob("*-tweets_labeled.csv"))
    items = []
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader)]
        text_col, inf_col = header.index("Tweet Text"), header.index("Informativeness")
        for row in reader:
            if len(row) < len(header):
                continue
            informative = row[inf_col].strip() == "Related and informative"
            items.append(Item(text=strip_tweet(row[text_col]), labels=["informative"] if informative else []))
    return subsample(items, n, seed=seed)


def load_sets(t6_per_event: int = 600, t26_per_event: int = 150, hateval_train: int = 3000,
              hateval_dev: int | None = None) -> list[GroupSet]:
    sets = []
    events = crisislex_t6_events()
    items, groups = [], []
    for event in events:
        rows = read_crisislex_t6(event, t6_per_event, seed=0)
        items += rows
        groups += [event] * len(rows)
    sets.append(GroupSet("t6", "on-topic", items, groups, [[e] for e in events]))

    t26_events = sorted(p.name for p in (DATASETS / "crisislex" / "CrisisLexT26").iterdir() if p.is_dir())
    items, groups = [], []
    for event in t26_events:
        rows = read_t26(event, t26_per_event)
        items += rows
        groups += [event] * len(rows)
    shuffled = list(t26_events)
    random.Random(0).shuffle(shuffled)
    sets.append(GroupSet("t26", "informative", items, groups, [shuffled[k::5] for k in range(5)]))

    train = subsample(read_hateval("train", labels=("HS",)), hateval_train, seed=0)
    dev = subsample(read_hateval("dev", labels=("HS",)), hateval_dev, seed=0)
    sets.append(GroupSet("hateval", "HS", train + dev, ["train"] * len(train) + ["dev"] * len(dev), [["dev"]]))
    return sets


def vectors_of(group_set: GroupSet) -> np.ndarray:
    """MiniLM embeddings of the set's texts, cached under CACHE by a hash of the texts."""
    digest = hashlib.sha256("\n".join(i.text for i in group_set.items).encode()).hexdigest()[:16]
    path = CACHE / f"{group_set.name}-{digest}.npy"
    if path.is_file():
        return np.load(path)
    from models_zoo.backends.embedding_head import EmbeddingHeadBackend

    encoder = EmbeddingHeadBackend([group_set.label], "binary")
    vectors = encoder.encode([i.text for i in group_set.items])
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


if __name__ == "__main__":
    import os
    import sys
    import time

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for s in load_sets():
        started = time.perf_counter()
        v = vectors_of(s)
        print(s.name, len(s.items), v.shape, f"{time.perf_counter() - started:.0f}s", flush=True)
