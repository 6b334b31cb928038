"""Seed 003's comparison on CrisisLex T6 (real MiniLM vectors): the negatives experiment.

Reads `../shared/datasets/crisislex/CrisisLexT6`, keeps up to `--off-per-event` off-topic tweets
(the pool the negatives are mined from, and the held-out negatives) and up to `--on-per-event`
on-topic tweets (the positives) per event, seeded,
normalises them as a project would (`strip`), drops duplicate texts, encodes them once with the
packaged all-MiniLM-L6-v2 through the one encoder code path (vectors cached in `--cache`), and runs
`models_zoo.mining.experiment.run_negatives_experiment` holding each event out in turn.

    OMP_NUM_THREADS=1 nice .venv/bin/python bench/mining_t6.py --seeds 3

Measured (400 on / 1600 off per event, 11,759 tweets after dedupe, 300 training positives,
3 seeds x 6 held-out events, test 1:10): F1 random 0.678 +- 0.080, 1 sigma 0.679 +- 0.085,
2 sigma 0.664 +- 0.151, 3 sigma 0.394 +- 0.137 (the 3-sigma band held ~240 pool tweets, so
those runs had ~240 negatives; with 200 positives and 5 seeds, all equal: 0.674, 0.679, 0.663,
0.409).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# bench/queue.py would shadow the standard library's queue (torch imports it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

T6 = ROOT.parent / "shared" / "datasets" / "crisislex" / "CrisisLexT6"


def read_t6(on_per_event: int, off_per_event: int, seed: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    from annotator.normalize import content_hash, normalize

    rng = np.random.default_rng(seed)
    texts: list[str] = []
    positive: list[bool] = []
    groups: list[str] = []
    seen: set[str] = set()
    for folder in sorted(p for p in T6.iterdir() if p.is_dir()):
        rows = []
        for path in folder.glob("*.csv"):
            with path.open(newline="", encoding="utf-8", errors="replace") as fh:
                reader = csv.reader(fh)
                next(reader)
                rows.extend(r for r in reader if len(r) >= 3)
        on = [r for r in rows if r[2].strip() == "on-topic"]
        off = [r for r in rows if r[2].strip() == "off-topic"]
        if len(on) > on_per_event:
            on = [on[i] for i in sorted(rng.choice(len(on), on_per_event, replace=False))]
        if len(off) > off_per_event:
            off = [off[i] for i in sorted(rng.choice(len(off), off_per_event, replace=False))]
        for r, is_pos in [(r, True) for r in on] + [(r, False) for r in off]:
            text = normalize(r[1])
            key = content_hash(text)
            if not text or key in seen:
                continue
            seen.add(key)
            texts.append(text)
            positive.append(is_pos)
            groups.append(folder.name)
    return texts, np.array(positive), np.array(groups)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--on-per-event", type=int, default=400)
    ap.add_argument("--off-per-event", type=int, default=1600)
    ap.add_argument("--cache", default="/tmp/vigia-t6-minilm-400-1600.npz")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--n-train-positives", type=int, default=300)
    ap.add_argument("--encode-only", action="store_true")
    ap.add_argument("--json", help="write the result here")
    args = ap.parse_args()
    cache = Path(args.cache)
    if cache.is_file():
        data = np.load(cache)
        vectors, positive, groups = data["vectors"], data["positive"], data["groups"]
    else:
        from models_zoo.backends._encoders import encode_sentences

        texts, positive, groups = read_t6(args.on_per_event, args.off_per_event, seed=0)
        t0 = time.perf_counter()
        parts = []
        for start in range(0, len(texts), 1000):
            parts.append(encode_sentences("default", texts[start:start + 1000], batch_size=64,
                                          device="cpu"))
            print(f"encoded {start + len(parts[-1])}/{len(texts)} in {time.perf_counter() - t0:.0f} s",
                  flush=True)
        vectors = np.vstack(parts)
        np.savez(cache, vectors=vectors, positive=positive, groups=groups)
    print(f"{len(vectors)} vectors, {int(positive.sum())} on-topic, groups {sorted(set(groups))}")
    if args.encode_only:
        return
    from models_zoo.mining.experiment import run_negatives_experiment

    t0 = time.perf_counter()
    result = run_negatives_experiment(
        vectors, positive, groups, seeds=list(range(args.seeds)),
        n_train_positives=args.n_train_positives,
    )
    print(f"experiment took {time.perf_counter() - t0:.1f} s")
    for row in result["summary"]:
        print(
            f"{row['setting']:>7}: F1 {row['f1_mean']:.3f} ± {row['f1_std']:.3f}  "
            f"P {row['precision_mean']:.3f}  R {row['recall_mean']:.3f}  (n={row['runs']})"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
