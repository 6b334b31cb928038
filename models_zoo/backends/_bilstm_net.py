"""Tokenizer, vocabulary, word-vector reader and network of the AT-BiLSTM (seed 004,
../shared/seeds/004_66f580f1de4f5b2c.txt §3.1: embedding layer initialised from word vectors,
stacked bidirectional LSTM, attention layer, dense output layer)."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from models_zoo.backends.base import BackendError

PAD, UNK = "<pad>", "<unk>"
# URLs and @mentions become one token each; hashtags keep their '#'; words keep inner
# apostrophes; any other non-space character is its own token.
_TOKEN = re.compile(r"https?://\S+|@\w+|#?\w+(?:'\w+)?|[^\w\s]", re.UNICODE)


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    tokens = _TOKEN.findall(text.lower() if lowercase else text)
    return ["<url>" if t.startswith(("http://", "https://")) else "<user>" if t.startswith("@") else t
            for t in tokens]


def build_vocab(texts: Iterable[list[str]], max_size: int, min_freq: int) -> list[str]:
    """Index -> token list: PAD=0, UNK=1, then tokens by descending frequency (ties by token,
    so the vocabulary does not depend on the order of the training items)."""
    counts = Counter(token for tokens in texts for token in tokens)
    ranked = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
    return [PAD, UNK] + ranked[: max(0, max_size - 2)]


def read_word_vectors(path: str | Path, vocab: Sequence[str], dim: int) -> tuple[np.ndarray, int]:
    """Rows for `vocab` from a GloVe / word2vec text file (an optional `count dim` header line).

    Returns (matrix with random N(0, 0.1) rows for words not in the file, number found).
    A row of the wrong width is an error naming the file and line."""
    source = Path(path)
    if not source.is_file():
        raise BackendError(f"word vectors file {source} does not exist")
    index = {token: i for i, token in enumerate(vocab)}
    rng = np.random.default_rng(0)
    matrix = rng.normal(0.0, 0.1, size=(len(vocab), dim)).astype(np.float32)
    matrix[0] = 0.0
    found = 0
    with source.open(encoding="utf-8", errors="replace") as handle:
        for line_no, line in enumerate(handle, start=1):
            parts = line.rstrip("\n").rstrip().split(" ")
            if line_no == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # word2vec header
            if len(parts) < 2:
                continue
            if len(parts) - 1 != dim:
                raise BackendError(
                    f"{source}, line {line_no}: vector has {len(parts) - 1} values, expected {dim} "
                    "(embedding_dim)"
                )
            row = index.get(parts[0]) if parts[0] in index else index.get(parts[0].lower())
            if row is None or row == 0:
                continue
            try:
                matrix[row] = np.asarray(parts[1:], dtype=np.float32)
            except ValueError as exc:
                raise BackendError(f"{source}, line {line_no}: not a number ({exc})") from exc
            found += 1
    return matrix, found


class AttentionBiLSTM(nn.Module):
    """Embedding -> stacked BiLSTM -> additive attention -> dense logits.

    Sequences are packed, so padding never reaches the backward LSTM direction and a text's
    scores do not depend on which batch it was predicted in."""

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int, num_layers: int,
                 attention_dim: int, num_outputs: int, dropout: float) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers=num_layers, batch_first=True,
                            bidirectional=True, dropout=dropout if num_layers > 1 else 0.0)
        self.attention_proj = nn.Linear(2 * hidden_size, attention_dim)
        self.attention_vector = nn.Linear(attention_dim, 1, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(2 * hidden_size, num_outputs)

    def forward(self, token_ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits (batch, outputs), attention weights (batch, time), zero on padding)."""
        embedded = self.dropout(self.embedding(token_ids))
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        states, _ = self.lstm(packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=token_ids.shape[1])
        energy = self.attention_vector(torch.tanh(self.attention_proj(states))).squeeze(-1)
        mask = torch.arange(token_ids.shape[1], device=token_ids.device)[None, :] < lengths[:, None]
        weights = torch.softmax(energy.masked_fill(~mask, float("-inf")), dim=-1)
        context = torch.bmm(weights.unsqueeze(1), states).squeeze(1)
        return self.output(self.dropout(context)), weights
