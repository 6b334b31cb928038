"""Predict throughput of `span_tagger` and `clip_fusion` against a bare forward pass of the same
network, measured in the same run (the ratio is the overhead the backend adds).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/throughput_span_clip.py [--n N] [--rounds R]

- span_tagger: packaged all-MiniLM-L6-v2 + BiLSTM + CRF (head fitted for one short epoch on a few
  WNUT-17 tweets; throughput does not depend on how well it is trained), predicting WNUT-17 dev
  tweets. Bare: the same network on pre-tokenised batches (encoder, LSTM, emissions, Viterbi)
  under inference_mode; the backend adds word splitting, subword alignment, CRF marginals and
  span building.
- clip_fusion: a random CLIP with the ViT-B/32 shape (12-layer 512-d text tower, 12-layer 768-d
  vision tower, 224 px, patch 32; no real checkpoint can be downloaded here), fusion dim 512,
  predicting PNG images + texts. Bare: the same network on pre-processed pixel tensors and token
  ids; the backend adds PNG decoding, resizing / normalising, tokenising, sigmoid and thresholds.
Rounds alternate backend and bare so load changes on this shared machine hit both; the best
round of each is reported.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # Run as a script, bench/ itself is sys.path[0] and bench/queue.py would shadow the standard
    # library's `queue` (torch imports it): put the project root there instead.
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch


def _best_rate(n: int, rounds: int, backend: Callable[[], object], bare: Callable[[], object]) -> tuple[float, float]:
    backend(), bare()  # warm-up: lazy init, allocator, thread pools
    best_backend = best_bare = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        backend()
        best_backend = max(best_backend, n / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        bare()
        best_bare = max(best_bare, n / (time.perf_counter() - t0))
    return best_backend, best_bare


def span_tagger_rates(n: int, rounds: int) -> tuple[float, float]:
    from bench.quality_spans import TYPES, WNUT, read_conll
    from models_zoo.backends._span_net import encode_words
    from models_zoo.backends._spans import tokenize_words
    from models_zoo.backends.span_tagger import SpanTaggerBackend

    train = read_conll(WNUT / "wnut17train.conll")[:48]
    dev = read_conll(WNUT / "emerging.dev.conll")[:n]
    backend = SpanTaggerBackend(TYPES, "spans", {"epochs": 1, "device": "cpu"})
    backend.fit(train[:40], train[40:])
    size = backend.config.predict_batch_size
    net = backend.net
    batches = [
        encode_words(backend.tokenizer, [[w.text for w in tokenize_words(i.text)] for i in dev[s : s + size]],
                     backend.config.max_length)
        for s in range(0, len(dev), size)
    ]

    def bare() -> None:
        with torch.inference_mode():
            for batch in batches:
                net.decode(net.emissions(batch), batch.word_mask)

    return _best_rate(len(dev), rounds, lambda: backend.predict(dev), bare)


def clip_fusion_rates(n: int, rounds: int) -> tuple[float, float]:
    from bench.fusion_synthetic import LABELS, make_split, sentences
    from models_zoo.backends.clip_fusion import ClipFusionBackend, decode_image
    from tests.models_zoo.tiny_clip import build_tiny_clip

    scratch = tempfile.TemporaryDirectory(prefix="clip-throughput-")
    # The backend loads checkpoints from the model roots only (models_zoo/model_roots.py).
    os.environ["VIGIA_MODEL_DIRS"] = os.pathsep.join(p for p in (os.environ.get("VIGIA_MODEL_DIRS"), scratch.name) if p)
    clip_dir = build_tiny_clip(Path(scratch.name) / "clip", sentences(), hidden=512, vision_hidden=768,
                               layers=12, heads=8, image_size=224, patch_size=32, projection_dim=512)
    items, _ = make_split(n, seed=5, size=224, mixed=False)
    train, _ = make_split(8, seed=6, size=224, mixed=False)
    backend = ClipFusionBackend(LABELS, "multimodal-multilabel",
                                {"clip": str(clip_dir), "epochs": 1, "device": "cpu",
                                 "freeze_text": True, "freeze_image": True})
    backend.fit(train[:6], train[6:])
    size = backend.config.predict_batch_size
    net = backend.net
    prepared = []
    for s in range(0, len(items), size):
        chunk = items[s : s + size]
        text = backend.tokenizer([i.text for i in chunk], padding=True, truncation=True,
                                 max_length=77, return_tensors="pt")
        pixels = backend.image_processor(images=[decode_image(i.image, "bench") for i in chunk],
                                         return_tensors="pt")["pixel_values"]
        flags = torch.ones(len(chunk), dtype=torch.bool)
        prepared.append(({k: text[k] for k in ("input_ids", "attention_mask")}, pixels, flags))

    def bare() -> None:
        with torch.inference_mode():
            for text, pixels, flags in prepared:
                net.fuse(net.encode_text(text), net.encode_image(pixels), flags, flags)

    rates = _best_rate(len(items), rounds, lambda: backend.predict(items), bare)
    scratch.cleanup()
    return rates


def run(n_span: int = 512, n_clip: int = 128, rounds: int = 3) -> list[str]:
    """Items/s for each backend and its bare network; one printable line per figure."""
    lines = [f"torch threads: {torch.get_num_threads()} (CPU)"]
    for name, fn, n in (("span_tagger", span_tagger_rates, n_span), ("clip_fusion", clip_fusion_rates, n_clip)):
        backend_rate, bare_rate = fn(n, rounds)
        lines.append(f"{name} predict: {backend_rate:.1f} items/s ({n} items, best of {rounds})")
        lines.append(f"{name} bare forward: {bare_rate:.1f} items/s")
        lines.append(f"{name} predict / bare: {backend_rate / bare_rate:.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-span", type=int, default=512)
    parser.add_argument("--n-clip", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for line in run(args.n_span, args.n_clip, args.rounds):
        print(line, flush=True)


if __name__ == "__main__":
    main()
