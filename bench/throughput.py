"""Prediction throughput of each classifier backend against a bare forward pass of the same
network, measured in the same run on the same texts (the ratio is the overhead we add).

Run from the project root (CPU, no network, a few minutes):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/throughput.py [--n 256] [--rounds 3] [--only NAME]

For each backend a model is first fitted on a small HatEval EN sample (quality is not the point
here), then `backend.predict(items)` on n HatEval dev texts is timed against:
- embedding_head: `SentenceTransformer.encode` (same batch size) + the head's matrix product;
- transformer_classifier: tokenizer + `model(**batch).logits.sigmoid()` under inference_mode;
- attention_bilstm: the network on already-built id tensors (so the ratio includes our
  tokenizer, vocabulary lookup and the per-token attention extras).
Rounds alternate backend and bare; the best round of each is kept (these machines are noisy).
Prints `name items_per_s` lines and `name.overhead_ratio backend/bare`. Then, when present,
the lines of `bench/throughput_span_clip.py:run()` (span_tagger, clip_fusion).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# `python bench/x.py` puts bench/ first on sys.path (bench/queue.py would shadow the stdlib).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# One intra-op thread unless told otherwise: on a shared, oversubscribed CPU, OpenMP threads
# spin-waiting for each other made one BiLSTM forward 20-50x slower (4-10 s vs 0.2 s) here.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from bench._data import read_hateval, subsample
from models_zoo.backends.base import Item

LABELS = ("HS", "TR", "AG")
NAMES = ("embedding_head", "transformer_classifier", "attention_bilstm", "span_clip")


def emit(line: str) -> None:
    print(line, flush=True)


def best_rates(n: int, rounds: int, backend: Callable[[], object], bare: Callable[[], object]) -> tuple[float, float]:
    backend()  # warm-up: caches, lazy imports, first-call allocations
    bare()
    best_backend = best_bare = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        backend()
        best_backend = max(best_backend, n / (time.perf_counter() - started))
        started = time.perf_counter()
        bare()
        best_bare = max(best_bare, n / (time.perf_counter() - started))
    return best_backend, best_bare


def embedding_head_rates(train: list[Item], val: list[Item], items: list[Item], rounds: int) -> tuple[float, float]:
    from models_zoo.backends._encoders import load_sentence_encoder
    from models_zoo.backends.embedding_head import EmbeddingHeadBackend

    backend = EmbeddingHeadBackend(LABELS, "multilabel", {"device": "cpu"})
    backend.fit(train, val)
    encoder = load_sentence_encoder("default", "cpu")
    texts = [i.text for i in items]
    coef, intercept = backend._coef, backend._intercept
    assert coef is not None and intercept is not None

    def bare() -> np.ndarray:
        x = encoder.encode(texts, batch_size=backend.embed_batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
        return 1 / (1 + np.exp(-(x @ coef.T + intercept)))

    return best_rates(len(items), rounds, lambda: backend.predict(items), bare)


def transformer_rates(train: list[Item], val: list[Item], items: list[Item], rounds: int) -> tuple[float, float]:
    import torch

    from models_zoo.backends.transformer_classifier import TransformerClassifierBackend

    backend = TransformerClassifierBackend(LABELS, "multilabel", {"epochs": 1, "device": "cpu"})
    backend.fit(train, val)
    texts = [i.text for i in items]
    size = backend.config.eval_batch_size

    def bare() -> list[torch.Tensor]:
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), size):
                batch = backend.tokenizer(texts[start : start + size], truncation=True, max_length=32,
                                          padding=True, return_tensors="pt")
                out.append(torch.sigmoid(backend.model(**batch).logits))
        return out

    return best_rates(len(items), rounds, lambda: backend.predict(items), bare)


def bilstm_rates(train: list[Item], val: list[Item], items: list[Item], rounds: int) -> tuple[float, float]:
    import torch

    from models_zoo.backends.attention_bilstm import AttentionBiLSTMBackend

    backend = AttentionBiLSTMBackend(LABELS, "multilabel", {"epochs": 1, "device": "cpu"})
    backend.fit(train, val)
    assert backend.network is not None
    network = backend.network.eval()
    size = backend.config.eval_batch_size
    tokens = [backend._tokens(i.text) for i in items]
    batches = [backend._batch_tensors(tokens[s : s + size]) for s in range(0, len(tokens), size)]

    def bare() -> list[torch.Tensor]:
        with torch.inference_mode():
            return [torch.sigmoid(network(ids, lengths)[0]) for ids, lengths in batches]

    return best_rates(len(items), rounds, lambda: backend.predict(items), bare)


def plugin_lines() -> list[str]:
    path = ROOT / "bench" / "throughput_span_clip.py"
    if not path.is_file():
        return ["throughput_span_clip.py: not present, skipped"]
    spec = importlib.util.spec_from_file_location("bench_throughput_span_clip", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=256, help="texts predicted per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--train", type=int, default=200, help="HatEval rows to fit each model on")
    parser.add_argument("--only", action="append", choices=NAMES)
    args = parser.parse_args()
    wanted = set(args.only or NAMES)
    train_pool = subsample(read_hateval("train"), args.train + 100, seed=0)
    train, val = train_pool[: args.train], train_pool[args.train :]
    items = [Item(text=i.text) for i in subsample(read_hateval("dev"), args.n, seed=0)]
    emit(f"throughput.setup n={len(items)} rounds={args.rounds} cpu_threads={os.cpu_count()}")
    measures = (("embedding_head", embedding_head_rates), ("transformer_classifier", transformer_rates),
                ("attention_bilstm", bilstm_rates))
    for name, measure in measures:
        if name not in wanted:
            continue
        ours, bare = measure(train, val, items, args.rounds)
        emit(f"{name}.predict_items_per_s {ours:.1f}")
        emit(f"{name}.bare_forward_items_per_s {bare:.1f}")
        emit(f"{name}.overhead_ratio {ours / bare:.3f}")
    if "span_clip" in wanted:
        for line in plugin_lines():
            emit(line)


if __name__ == "__main__":
    main()
