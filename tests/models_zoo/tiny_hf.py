"""Tiny random Hugging Face models built in-process for tests (no hub, no download).

`build_tiny_bert(directory)` trains a WordPiece tokenizer with `tokenizers` on a few sentences,
builds a 2-layer BERT with a small random config, and saves both so the directory loads with
`AutoModel` / `AutoModelForSequenceClassification` / `AutoModelForTokenClassification` /
`AutoTokenizer`, and as a sentence-transformers model (mean pooling). `tiny_bert_dir()` builds
one per process and reuses it (loading once per session, like sentence-transformers' tests).

`synthetic_items(...)` makes sentences whose labels depend on trigger words, so a test can
assert that a backend actually learns.
"""
from __future__ import annotations

import functools
import os
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path

from models_zoo.backends.base import Item

# Trigger words per label position; fillers carry no signal.
TRIGGERS = [
    ["hate", "vermin", "disgusting"],
    ["you", "your", "yourself"],
    ["kill", "smash", "destroy"],
    ["flood", "water", "rain"],
    ["fire", "smoke", "burning"],
]
FILLERS = [
    "the", "a", "people", "today", "city", "news", "really", "think", "about", "this", "that",
    "morning", "street", "they", "we", "saw", "again", "new", "big", "report", "said", "and",
    "of", "in", "on", "with", "is", "are", "very", "just", "here", "there",
]
DEFAULT_LABELS = ("HS", "TR", "AG")


def corpus_sentences() -> list[str]:
    """Sentences covering every trigger and filler, for training tiny tokenizers."""
    rng = random.Random(0)
    words = [w for group in TRIGGERS for w in group] + FILLERS
    sentences = [" ".join(rng.choice(words) for _ in range(rng.randint(4, 12))) for _ in range(300)]
    sentences += [" ".join(words)]
    return sentences


def build_tiny_bert(directory: str | Path, sentences: Sequence[str] | None = None, *,
                    hidden_size: int = 64, num_layers: int = 2, num_heads: int = 4,
                    seed: int = 0) -> Path:
    """Write a tiny random BERT + WordPiece tokenizer (+ sentence-transformers files) to
    `directory` and return it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer, models
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    wordpiece = BertWordPieceTokenizer(lowercase=True)
    wordpiece.train_from_iterator(list(sentences or corpus_sentences()), vocab_size=400,
                                  min_frequency=1, show_progress=False)
    # transformers 5 takes the WordPiece vocabulary as `vocab` (a dict or a vocab.txt path).
    tokenizer = BertTokenizerFast(vocab=wordpiece.get_vocab(), do_lower_case=True, model_max_length=64)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=hidden_size, num_hidden_layers=num_layers,
        num_attention_heads=num_heads, intermediate_size=hidden_size * 2,
        max_position_embeddings=64, type_vocab_size=2,
    )
    BertModel(config).save_pretrained(str(target), safe_serialization=True)
    tokenizer.save_pretrained(str(target))
    # Sentence-transformers files (modules.json, pooling) next to the HF files: the
    # Transformer module lives at the root, so AutoModel keeps loading the same directory.
    word = models.Transformer(str(target), max_seq_length=64)
    pooling = models.Pooling(word.get_embedding_dimension(), pooling_mode="mean")
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(target))
    return target


@functools.cache
def tiny_bert_dir() -> Path:
    """One tiny BERT per test process, in a temp dir removed at interpreter exit."""
    scratch = tempfile.TemporaryDirectory(prefix="vigia-tiny-bert-")
    _keep.append(scratch)
    return build_tiny_bert(Path(scratch.name) / "tiny-bert")


_keep: list[tempfile.TemporaryDirectory[str]] = []


def synthetic_items(n: int, task_type: str = "multilabel",
                    labels: Sequence[str] = DEFAULT_LABELS, seed: int = 0) -> list[Item]:
    """`n` sentences whose gold labels are fixed by trigger words.

    multilabel: each label present with p=0.4 independently; binary: one label, half positive;
    singlelabel: exactly one label per sentence."""
    rng = random.Random(seed)
    items = []
    for _ in range(n):
        if task_type == "singlelabel":
            gold = [rng.choice(list(labels))]
        elif task_type == "binary":
            gold = [labels[0]] if rng.random() < 0.5 else []
        else:
            gold = [name for name in labels if rng.random() < 0.4]
        words = [rng.choice(FILLERS) for _ in range(rng.randint(3, 7))]
        for name in gold:
            trigger_group = TRIGGERS[list(labels).index(name) % len(TRIGGERS)]
            words.insert(rng.randint(0, len(words)), rng.choice(trigger_group))
        items.append(Item(text=" ".join(words), labels=gold))
    return items
