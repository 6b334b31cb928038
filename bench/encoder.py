"""Encoder throughput: the torch sentence-transformers encoder vs the ONNX Runtime engine.

Run (no database needed):

    HF_HUB_OFFLINE=1 nice .venv/bin/python bench/encoder.py [--n 2000] [--quick]

On `--n` real tweets (HatEval EN train, from ../shared/datasets, else the repository's
tests/fixtures/datasets sample), with the packaged all-MiniLM-L6-v2, in one process:
1. reference: sentence-transformers' `encode` (engine "torch", which sorts by length itself),
   at the old product batch size (64) and at the chosen one; ours: engine "onnx" (length-
   bucketed) at the chosen batch size. Each is timed twice, interleaved, best kept. Figures:
   texts/s, `onnx_vs_torch` (goal >= 1.5) and the minimum cosine between the two (goal >= 0.9999);
2. the onnx engine at batch sizes 8/16/32/64, with and without length bucketing (the padding
   effect), to pick the default batch size;
3. int8 dynamic quantisation: its speed against fp32 onnx, the minimum cosine to torch, and the
   held-out effect on `embedding_head` (logistic regression fit on train vectors, thresholds
   on a validation slice, macro F1 on HatEval dev) with fp32 vs int8 vectors.
Figures print as `name value`.
"""
from __future__ import annotations

import sys
from pathlib import Path

_BENCH_DIR = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != _BENCH_DIR]
sys.path.insert(0, str(_BENCH_DIR.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

os.environ.setdefault("VIGIA_SECRET_KEY", "bench-only-key-encoder-throughput")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = _BENCH_DIR.parent


def figure(name: str, value: float | int, unit: str = "") -> None:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"{name} {text}{(' ' + unit) if unit else ''}", flush=True)


def load_items(split: str):
    from bench import _data

    if not (_data.DATASETS / "hateval2019" / f"{split}_en.tsv").is_file():
        _data.DATASETS = ROOT / "tests" / "fixtures" / "datasets"
    return _data.read_hateval(split)


def best_of(repeats: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def min_cosine(a, b) -> float:
    import numpy as np

    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float((a * b).sum(axis=1).min())


def heldout_f1(x_train, train, x_val, validation, x_test, test) -> float:
    from models_zoo.backends import _classify as C
    from models_zoo.backends.embedding_head import EmbeddingHeadBackend

    backend = EmbeddingHeadBackend(["HS", "TR", "AG"], "multilabel", {"seed": 1})
    backend.fit_embeddings(x_train, train, x_val, validation)
    scores = backend._scores(x_test)
    y_true = C.gold_matrix(test, backend.labels, "multilabel", "test")
    y_pred = C.decide(scores, backend.labels, "multilabel", backend.thresholds)
    return float(C.measure(y_true, scores, y_pred, backend.labels)["f1_macro"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="texts encoded per measurement")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="our batch size (default: the product default, DEFAULT_BATCH_SIZE)")
    parser.add_argument("--test-n", type=int, default=1000, help="HatEval dev texts for the held-out F1")
    parser.add_argument("--skip-grid", action="store_true")
    parser.add_argument("--skip-int8", action="store_true")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 texts, 200 test texts")
    args = parser.parse_args()
    if args.quick:
        args.n, args.test_n = 200, 200
    os.environ.setdefault("VIGIA_ARTIFACTS_DIR", tempfile.mkdtemp(prefix="vigia-bench-encoder-"))

    import torch

    from models_zoo.backends._encoders import (
        DEFAULT_BATCH_SIZE,
        encode_sentences,
        engine_fallback_reason,
    )

    ours = args.batch_size or DEFAULT_BATCH_SIZE
    figure("torch_threads", torch.get_num_threads())
    train_items = load_items("train")[: args.n]
    texts = [item.text for item in train_items]
    figure("texts", len(texts))
    import numpy as np


    def enc(engine: str, batch: int, **kw):
        return encode_sentences("default", texts, batch_size=batch, engine=engine, **kw)

    started = time.perf_counter()
    enc("onnx", ours)  # export (first run on this artifacts dir) + load, outside the timings
    figure("onnx_export_and_first_encode_s", time.perf_counter() - started, "s")
    if engine_fallback_reason("default"):
        raise SystemExit(f"onnx engine unavailable: {engine_fallback_reason('default')}")
    enc("torch", 64)  # load the torch model once too

    from models_zoo.backends._encoders import _onnx_or_none

    onnx = _onnx_or_none("default", "onnx")
    tokens = [len(e.ids) for e in onnx.tokenize(texts)]
    figure("tokens_mean", float(np.mean(tokens)))
    figure("tokens_max", int(max(tokens)))

    torch64, torch_ours, fast = [], [], []
    vectors = {}
    for _ in range(2):  # interleaved: a noisy shared machine hits both alike
        t, vectors["torch"] = best_of(1, lambda: enc("torch", 64))
        torch64.append(t)
        t, _ = best_of(1, lambda: enc("torch", ours))
        torch_ours.append(t)
        t, vectors["onnx"] = best_of(1, lambda: enc("onnx", ours))
        fast.append(t)
    n = len(texts)
    figure("torch_b64_texts_per_s", n / min(torch64), "texts/s")
    figure(f"torch_b{ours}_texts_per_s", n / min(torch_ours), "texts/s")
    figure(f"onnx_bucketed_b{ours}_texts_per_s", n / min(fast), "texts/s")
    figure("onnx_vs_torch_b64", min(torch64) / min(fast))
    figure(f"onnx_vs_torch_b{ours}", min(torch_ours) / min(fast))
    figure("onnx_min_cosine_to_torch", min_cosine(vectors["onnx"], vectors["torch"]))

    if not args.skip_grid:
        for batch in (8, 16, 32, 64):
            for bucket in (True, False):
                t, _ = best_of(1, lambda b=batch, k=bucket: onnx.encode(texts, batch_size=b, bucket=k))
                figure(f"onnx_b{batch}_{'bucketed' if bucket else 'unsorted'}_texts_per_s", n / t, "texts/s")
        for batch in (8, 16, 32, 64):
            t, _ = best_of(1, lambda b=batch: enc("torch", b))
            figure(f"torch_b{batch}_texts_per_s", n / t, "texts/s")

    if not args.skip_int8:
        t8, vectors["int8"] = best_of(1, lambda: enc("onnx-int8", ours))  # quantises once
        t8, vectors["int8"] = best_of(2, lambda: enc("onnx-int8", ours))
        t32, _ = best_of(2, lambda: enc("onnx", ours))
        figure(f"onnx_int8_b{ours}_texts_per_s", n / t8, "texts/s")
        figure("onnx_int8_vs_onnx_fp32", t32 / t8)
        figure("onnx_int8_min_cosine_to_torch", min_cosine(vectors["int8"], vectors["torch"]))
        test = load_items("dev")[: args.test_n]
        cut = int(len(train_items) * 0.75)
        train, validation = train_items[:cut], train_items[cut:]
        test_texts = [item.text for item in test]
        for engine in ("onnx", "onnx-int8"):
            x = vectors["onnx" if engine == "onnx" else "int8"]
            x_test = encode_sentences("default", test_texts, batch_size=ours, engine=engine)
            f1 = heldout_f1(x[:cut], train, x[cut:], validation, x_test, test)
            figure(f"heldout_f1_macro_{engine.replace('-', '_')}", f1)


if __name__ == "__main__":
    main()
