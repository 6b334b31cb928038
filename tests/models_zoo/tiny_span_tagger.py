"""A tiny span-tagging case for the contract test and the span tagger tests.

`make_case(tmp_path)` builds a tiny random BERT with a tokenizer trained on the fly (saved to a
directory and loaded through the real `from_pretrained` path) and a toy entity task: city names
are LOC, a few first names are PER. A 1-layer, 32-dim encoder learns it in seconds on CPU.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from models_zoo.backends.base import Item

CITIES = ["Paris", "Quito", "Houston", "Kathmandu", "Lima", "Manila", "Tokyo", "Oslo"]
PEOPLE = ["Maria", "Ahmed", "John", "Priya", "Luis", "Chen"]
TEMPLATES = [
    "flooding in {c} tonight , stay safe",
    "{p} says roads to {c} are closed",
    "help needed near {c} #flood",
    "thoughts with everyone in {c} and {c2}",
    "{p} and {p2} are volunteering today",
    "no news from {p} yet @someone http://t.co/x1",
    "power is back , thanks to all crews",
    "the storm moved north overnight",
]


def make_items(n: int, seed: int) -> list[Item]:
    """`n` generated tweets with character-offset PER / LOC spans."""
    rng = random.Random(seed)
    items = []
    for _ in range(n):
        template = rng.choice(TEMPLATES)
        fills = {"c": rng.choice(CITIES), "c2": rng.choice(CITIES), "p": rng.choice(PEOPLE),
                 "p2": rng.choice(PEOPLE)}
        text, spans, pos = "", [], 0
        for piece in _split_template(template):
            if piece in fills:
                label = "LOC" if piece.startswith("c") else "PER"
                spans.append({"start": len(text), "end": len(text) + len(fills[piece]), "label": label})
                text += fills[piece]
            else:
                text += piece
            pos += 1
        items.append(Item(text=text, spans=spans))
    return items


def _split_template(template: str) -> list[str]:
    out, rest = [], template
    while "{" in rest:
        head, _, tail = rest.partition("{")
        key, _, rest = tail.partition("}")
        out += [head, key]
    out.append(rest)
    return [p for p in out if p]


def build_tiny_bert(directory: Path, sentences: list[str], hidden: int = 32) -> Path:
    """A random 1-layer BERT and a WordPiece tokenizer trained on `sentences`, saved to
    `directory` (loaded later through AutoModel / AutoTokenizer like any checkpoint)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(sentences, trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]",
    )
    config = BertConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=hidden, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=2 * hidden, max_position_embeddings=128,
    )
    directory.mkdir(parents=True, exist_ok=True)
    BertModel(config).save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory


def tiny_config(encoder_dir: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "encoder": str(encoder_dir), "lstm_hidden": 16, "dropout": 0.1, "batch_size": 8,
        "epochs": 8, "patience": 8, "lr_encoder": 1e-3, "lr_head": 2e-2, "max_length": 48,
        "device": "cpu",
    }
    config.update(overrides)
    return config


def make_case(tmp_path: Path) -> tuple[Any, list[Item], list[Item], list[Item]]:
    """(backend, train, validation, predict) for the parametrised contract test."""
    from models_zoo.backends.span_tagger import SpanTaggerBackend

    train, validation = make_items(48, seed=1), make_items(16, seed=2)
    predict = make_items(6, seed=3) + [Item(text=""), Item(text="   ")]
    encoder = build_tiny_bert(tmp_path / "tiny-bert", [i.text for i in train] + TEMPLATES)
    backend = SpanTaggerBackend(["LOC", "PER"], "spans", tiny_config(encoder))
    return backend, train, validation, predict
