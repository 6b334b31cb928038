"""Active-learning simulation on real tweets (HatEval EN, CrisisLex T6), as the product's
simulation job runs it: frozen packaged MiniLM vectors, embedding_head's logistic head refitted
each round (annotator.active_learning.simulation.simulate).

    nice .venv/bin/python bench/al_simulation.py [--hateval 9000] [--t6-per-event 500]
        [--n0 100] [--batch 50] [--rounds 18] [--seeds 3]

Prints, per data set: the full-data macro-F1, each strategy's macro-F1 at a few label counts,
AULC and labels to 95% of the full F1; then the time of one simulation round (refit + score the
pool) as a ratio to a bare sklearn LogisticRegression fit on the same labels (reference measured
in the same run).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# bench/queue.py would shadow the stdlib `queue`: keep bench/ itself off sys.path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

STRATEGIES = ["random", "least_confidence", "margin", "entropy", "margin_diverse"]


def encode(texts):
    from models_zoo.backends._encoders import encode_sentences

    return encode_sentences("default", texts, batch_size=128, normalize=True)


def report(name, items, labels, task_type, args):
    import numpy as np

    from annotator.active_learning.simulation import simulate

    t0 = time.perf_counter()
    x = encode([it.text for it in items])
    y = np.array([[lab in it.labels for lab in labels] for it in items], dtype=int)
    print(f"{name}: {len(items)} examples encoded in {time.perf_counter() - t0:.1f}s")
    t0 = time.perf_counter()
    result = simulate(x, y, labels, task_type, STRATEGIES, n0=args.n0, batch=args.batch,
                      rounds=args.rounds, seeds=args.seeds, test_fraction=0.2)
    print(f"{name}: simulated in {time.perf_counter() - t0:.1f}s; full-data macro-F1 {result.full_f1:.3f}")
    for strategy, points in result.curves.items():
        marks = [p for p in points if p["labels"] in (args.n0, 400, 600, points[-1]["labels"])]
        curve = " ".join(f"{p['labels']}:{p['f1_mean']:.3f}±{p['f1_sd']:.3f}" for p in marks)
        print(f"{name}: {strategy:16s} aulc {result.aulc[strategy]:.3f} labels_to_95 "
              f"{result.labels_to_95[strategy]} | {curve}")
    return x, y


def round_timing(x, y, labels, task_type, n_labelled=1000):
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from annotator.active_learning import scoring
    from annotator.active_learning.simulation import Head

    idx = np.arange(min(n_labelled, len(x)))
    t0 = time.perf_counter()
    for j in range(y.shape[1]):
        LogisticRegression(max_iter=2000, class_weight="balanced").fit(x[idx], y[idx, j])
    reference = time.perf_counter() - t0
    t0 = time.perf_counter()
    head = Head(labels, task_type).fit(x[idx], y[idx])
    scoring.margin(head.probs(x), task_type).argsort()
    one_round = time.perf_counter() - t0
    print(f"one round on {len(x)} examples ({len(idx)} labelled): {one_round:.3f}s = "
          f"{one_round / reference:.2f}x a bare LogisticRegression fit ({reference:.3f}s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hateval", type=int, default=9000)
    parser.add_argument("--t6-per-event", type=int, default=500)
    parser.add_argument("--n0", type=int, default=100)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=18)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    import django

    django.setup()
    from bench._data import (
        HATEVAL_LABELS,
        crisislex_t6_events,
        read_crisislex_t6,
        read_hateval,
        subsample,
    )

    hateval = subsample(read_hateval("train"), args.hateval)
    x, y = report("HatEval EN", hateval, list(HATEVAL_LABELS), "multilabel", args)
    round_timing(x, y, list(HATEVAL_LABELS), "multilabel")
    t6 = [it for event in crisislex_t6_events()
          for it in read_crisislex_t6(event, per_event=args.t6_per_event)]
    report("CrisisLex T6", t6, ["on-topic"], "binary", args)


if __name__ == "__main__":
    main()
