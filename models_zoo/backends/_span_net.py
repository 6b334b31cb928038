"""The span tagger's network: HF encoder -> first-subword word vectors -> (BiLSTM) -> CRF.

Seed 003 (../shared/seeds/003_43c8cb6e46dbc9f4.txt, difficult negatives paper): BERTweet
features, one forward + one backward LSTM layer with hidden size 128, LSTM dropout 0.4, and a
CRF inferencer (pytorch-crf). The encoder here is any HF encoder; the CRF runs over *words*
(first subword of each word, the usual alignment), not subwords, so BIO tags are word tags.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torchcrf import CRF


@dataclass
class WordBatch:
    """Tensors for one batch; `word_index[b, w]` is the subword position of word w's first
    subword, `word_mask` marks real words (always at least one per row, see `encode_words`)."""

    encoding: dict[str, torch.Tensor]
    word_index: torch.Tensor
    word_mask: torch.Tensor
    # Casing class per modelled word (see `casing_class`), 0 for padding.
    casing: torch.Tensor
    # Per item: indices (into the item's word list) of the words the model sees, in order.
    # Words cut by max_length, or for which the tokenizer produced no subword, are left out.
    modelled: list[list[int]]

    def to(self, device: torch.device) -> WordBatch:
        return WordBatch(
            {k: v.to(device) for k, v in self.encoding.items()},
            self.word_index.to(device),
            self.word_mask.to(device),
            self.casing.to(device),
            self.modelled,
        )


CASING_CLASSES = 7


def casing_class(word: str) -> int:
    """1 lower, 2 Title, 3 UPPER, 4 mIxed, 5 has a digit, 6 no letter or digit (0 = padding).

    Uncased encoders such as the packaged MiniLM lower-case their input, and capitalisation is
    one of the strongest entity cues in tweets; a small casing embedding gives it back."""
    if any(c.isdigit() for c in word):
        return 5
    if not any(c.isalpha() for c in word):
        return 6
    if word.islower():
        return 1
    if word.isupper():
        return 3
    if word[0].isupper() and word[1:].islower():
        return 2
    return 4


def _per_word_encoding(tokenizer: Any, word_lists: Sequence[Sequence[str]],
                       max_length: int) -> tuple[dict[str, torch.Tensor], list[list[int | None]]]:
    """Token ids and word ids built word by word, for tokenizers without word alignment
    (slow / Python tokenizers such as BERTweet's, the encoder of seed 003)."""

    def first_id(*names: str) -> list[int]:
        for name in names:
            value = getattr(tokenizer, name, None)
            if value is not None:
                return [int(value)]
        return []

    prefix, suffix = first_id("cls_token_id", "bos_token_id"), first_id("sep_token_id", "eos_token_id")
    rows: list[list[int]] = []
    word_ids: list[list[int | None]] = []
    for words in word_lists:
        ids: list[int] = list(prefix)
        wids: list[int | None] = [None] * len(prefix)
        for k, word in enumerate(words):
            pieces = tokenizer(word, add_special_tokens=False)["input_ids"]
            if len(ids) + len(pieces) + len(suffix) > max_length:
                break
            ids += pieces
            wids += [k] * len(pieces)
        rows.append(ids + suffix)
        word_ids.append(wids + [None] * len(suffix))
    width = max(len(r) for r in rows)
    pad = getattr(tokenizer, "pad_token_id", None) or 0
    input_ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows], dtype=torch.long)
    attention = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], dtype=torch.long)
    return {"input_ids": input_ids, "attention_mask": attention}, word_ids


def encode_words(tokenizer: Any, word_lists: Sequence[Sequence[str]], max_length: int,
                 per_word: bool | None = None) -> WordBatch:
    """Tokenise pre-split words and align each word to its first subword.

    Fast tokenizers align through `word_ids()`; others (or `per_word=True`) are run word by
    word, which gives the same alignment for WordPiece vocabularies."""
    # An empty word list would give a zero-length CRF sequence; a placeholder word keeps the
    # shapes valid and its output is ignored (`modelled` is empty for that item).
    safe = [list(words) if words else ["."] for words in word_lists]
    if per_word is None:
        per_word = not getattr(tokenizer, "is_fast", False)
    if per_word:
        encoding, word_ids = _per_word_encoding(tokenizer, safe, max_length)
    else:
        enc = tokenizer(
            safe, is_split_into_words=True, truncation=True, max_length=max_length,
            padding=True, return_tensors="pt",
        )
        encoding = {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        word_ids = [enc.word_ids(b) for b in range(len(safe))]
    modelled: list[list[int]] = []
    positions: list[list[int]] = []
    for b, words in enumerate(word_lists):
        first: dict[int, int] = {}
        for pos, wid in enumerate(word_ids[b]):
            if wid is not None and wid not in first:
                first[wid] = pos
        kept = sorted(first) if words else []
        modelled.append(kept)
        positions.append([first[w] for w in kept] or [0])
    width = max(len(p) for p in positions)
    word_index = torch.zeros((len(positions), width), dtype=torch.long)
    word_mask = torch.zeros((len(positions), width), dtype=torch.bool)
    casing = torch.zeros((len(positions), width), dtype=torch.long)
    for b, pos in enumerate(positions):
        word_index[b, : len(pos)] = torch.tensor(pos, dtype=torch.long)
        word_mask[b, : len(pos)] = True
        for w, word_i in enumerate(modelled[b]):
            casing[b, w] = casing_class(word_lists[b][word_i])
    return WordBatch(encoding, word_index, word_mask, casing, modelled)


class SpanTaggerNet(nn.Module):
    """Encoder + optional BiLSTM + linear emissions + CRF over word positions."""

    def __init__(self, encoder: nn.Module, num_tags: int, use_lstm: bool, lstm_hidden: int,
                 dropout: float, casing_dim: int = 0) -> None:
        super().__init__()
        self.encoder = encoder
        self.casing = nn.Embedding(CASING_CLASSES, casing_dim) if casing_dim else None
        hidden = int(encoder.config.hidden_size) + casing_dim
        self.dropout = nn.Dropout(dropout)
        self.lstm = (
            nn.LSTM(hidden, lstm_hidden, num_layers=1, batch_first=True, bidirectional=True)
            if use_lstm else None
        )
        self.emit = nn.Linear(2 * lstm_hidden if use_lstm else hidden, num_tags)
        self.crf = CRF(num_tags, batch_first=True)

    def head_state(self) -> dict[str, torch.Tensor]:
        """Everything except the encoder (which is saved with save_pretrained)."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("encoder.")}

    def emissions(self, batch: WordBatch) -> torch.Tensor:
        hidden = self.encoder(**batch.encoding).last_hidden_state
        index = batch.word_index.unsqueeze(-1).expand(-1, -1, hidden.size(-1))
        words = hidden.gather(1, index)
        if self.casing is not None:
            words = torch.cat([words, self.casing(batch.casing).to(words.dtype)], dim=-1)
        words = self.dropout(words)
        if self.lstm is not None:
            lengths = batch.word_mask.sum(dim=1).cpu()
            packed = nn.utils.rnn.pack_padded_sequence(
                words.float(), lengths, batch_first=True, enforce_sorted=False
            )
            out, _ = self.lstm(packed)
            words, _ = nn.utils.rnn.pad_packed_sequence(
                out, batch_first=True, total_length=words.size(1)
            )
            words = self.dropout(words)
        # The CRF runs in float32 even under fp16 autocast: its log-sum-exp needs the range.
        return self.emit(words).float()

    def loss(self, batch: WordBatch, tags: torch.Tensor) -> torch.Tensor:
        emissions = self.emissions(batch)
        return -self.crf(emissions, tags, mask=batch.word_mask, reduction="mean")

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        return self.crf.decode(emissions, mask=mask)

    def marginals(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """P(tag at word t | sentence) by forward-backward over the CRF: (batch, words, tags).

        pytorch-crf has Viterbi and the partition function but no marginals; they give a
        calibrated per-word confidence for span scores and per-type scores."""
        start, end, trans = self.crf.start_transitions, self.crf.end_transitions, self.crf.transitions
        batch, width, _ = emissions.shape
        alphas = [start + emissions[:, 0]]
        for t in range(1, width):
            step = torch.logsumexp(alphas[-1].unsqueeze(2) + trans.unsqueeze(0), dim=1) + emissions[:, t]
            alphas.append(torch.where(mask[:, t : t + 1], step, alphas[-1]))
        betas = [end.expand(batch, -1)]
        for t in range(width - 2, -1, -1):
            nxt = emissions[:, t + 1] + betas[0]
            step = torch.logsumexp(trans.unsqueeze(0) + nxt.unsqueeze(1), dim=2)
            # The last real word of a row ends the sentence: its beta is the end transition.
            betas.insert(0, torch.where(mask[:, t + 1 : t + 2], step, end.expand(batch, -1)))
        alpha = torch.stack(alphas, dim=1)
        beta = torch.stack(betas, dim=1)
        log_z = torch.logsumexp(alphas[-1] + end, dim=1)
        return torch.exp(alpha + beta - log_z.view(-1, 1, 1))
