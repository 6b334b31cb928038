"""Classifier quality on the shared real sets, each against a TF-IDF + logistic-regression
baseline computed in the same run on the same split.

Run from the project root (CPU; no network; a few minutes to ~20 on a busy 2-core machine):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/quality.py            # everything
    HF_HUB_OFFLINE=1 .venv/bin/python bench/quality.py --quick    # small subsamples, 1 epoch
    HF_HUB_OFFLINE=1 .venv/bin/python bench/quality.py --only embedding_head
        (--only: baseline | embedding_head | transformer_classifier | attention_bilstm |
         crisislex | spans | fusion; may be repeated)

What it measures (every figure on its own line, learned backends with their ratio to the
baseline of the same block):
- HatEval 2019 EN train -> dev, (a) HS alone (binary project) and (b) HS/TR/AG multilabel:
  embedding_head (packaged all-MiniLM-L6-v2, frozen, + logistic regression),
  transformer_classifier (MiniLM fine-tuned, seed 000 defaults, a few epochs on CPU) and
  attention_bilstm (seed 004, no pre-trained word vectors: none ship here). Training rows
  are subsampled (seeded) to fit CPU time: the sizes are printed. 10% of the training sample
  is held out as the validation split (thresholds, best epoch); dev is only used at the end.
  Metrics: F1 macro over the project's labels (HS alone: F1 of HS) and ROC-AUC macro; for HS
  alone also the HatEval-style F1 averaged over both classes.
- CrisisLex T6 leave-one-event-out: train on five events, test on the sixth, on-topic F1 and
  ROC-AUC for embedding_head and the baseline (rows subsampled per event, printed).
- Group hold-outs (issue 12; `--only groups`): per shared set of `bench/_group_sets.py`
  (CrisisLex T6 leave-one-event-out, CrisisLex T26 by event in 5 folds, HatEval train -> dev),
  the DEFAULT embedding_head (its Config defaults: head, class weighting, threshold objective)
  against TF-IDF + logistic regression with the same objective, same folds, same run: test
  macro-F1 over both classes, positive-class F1 and ROC-AUC, mean over folds, and the ratio.
  MiniLM vectors are cached under /tmp (encoded once).
- `--only groups --compare-calibration` (issue 18): where the default embedding_head picks its
  threshold, `threshold_calibration: cross_validation` (stratified folds) against
  `group_cross_validation` (folds = the training events), same vectors, same seeds, positive-
  class F1 on the test side: (a) CrisisLex T6 leave-one-event-out with 160 labels, 80 from each
  of the two events after the held-out one (the issue's case; per event and mean); (b) T6
  leave-one-event-out and T26 by event in 5 folds on the full subsamples; (c) a random 20% test
  split of T6 and of T26 over 3 seeds (no event shift: the check that nothing is lost).
- Then, when present, `bench/quality_spans.py:run()` (WNUT-17 span_tagger) and
  `bench/fusion_synthetic.py:run()` (clip_fusion on a generated set), their lines as they are.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# Running `python bench/x.py` puts bench/ first on sys.path, where a module such as
# bench/queue.py would shadow the standard library: import from the project root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# One intra-op thread unless told otherwise: on a shared, oversubscribed CPU, OpenMP threads
# spin-waiting for each other made one BiLSTM forward 20-50x slower (4-10 s vs 0.2 s) here.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from bench._data import (
    crisislex_t6_events,
    read_crisislex_t6,
    read_hateval,
    split_off,
    subsample,
)
from models_zoo.backends import _classify as C
from models_zoo.backends.base import Item

ONLY_CHOICES = ("baseline", "embedding_head", "transformer_classifier", "attention_bilstm",
                "crisislex", "groups", "spans", "fusion")


def emit(line: str) -> None:
    print(line, flush=True)


def scores_of(predictions: Sequence, labels: Sequence[str]) -> np.ndarray:
    return np.array([[p.scores[name] for name in labels] for p in predictions], dtype=np.float64)


def test_metrics(y_test: np.ndarray, scores: np.ndarray, labels: Sequence[str], task_type: str,
                 thresholds: dict[str, float]) -> dict:
    return C.measure(y_test, scores, C.decide(scores, labels, task_type, thresholds), labels)


def tfidf_baseline(train: list[Item], val: list[Item], test: list[Item], labels: Sequence[str],
                   task_type: str, objective: str = "f1_positive") -> dict:
    """TF-IDF (word 1-2 grams) + one logistic regression per label, thresholds calibrated on
    the same validation split the backends use."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=True)
    x_train = vectorizer.fit_transform([i.text for i in train])
    x_val, x_test = vectorizer.transform([i.text for i in val]), vectorizer.transform([i.text for i in test])
    y_train = C.gold_matrix(train, labels, task_type, "train")
    y_val = C.gold_matrix(val, labels, task_type, "validation")
    models = [LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced").fit(x_train, y_train[:, j])
              for j in range(len(labels))]
    val_scores = np.stack([m.predict_proba(x_val)[:, 1] for m in models], axis=1)
    test_scores = np.stack([m.predict_proba(x_test)[:, 1] for m in models], axis=1)
    thresholds, _ = C.calibrate_and_measure(y_val, val_scores, labels, task_type, objective)
    y_test = C.gold_matrix(test, labels, task_type, "test")
    return test_metrics(y_test, test_scores, labels, task_type, thresholds) | {"_scores": test_scores,
                                                                                  "_thresholds": thresholds}


def report(block: str, name: str, metrics: dict, baseline: dict | None, extra: str = "") -> None:
    for key in ("f1_macro", "roc_auc_macro"):
        value = metrics[key]
        line = f"{block}.{name}.{key} {value:.4f}"
        if baseline is not None and baseline.get(key):
            line += f"  ratio_vs_tfidf_lr {value / baseline[key]:.3f}"
        emit(line + extra)


def two_class_f1(y: np.ndarray, scores: np.ndarray, threshold: float) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y[:, 0], scores[:, 0] >= threshold, average="macro"))


def only_labels(items: list[Item], labels: Sequence[str]) -> list[Item]:
    return [Item(text=i.text, labels=[name for name in (i.labels or []) if name in labels]) for i in items]


def hateval_blocks(args: argparse.Namespace, wanted: set[str]) -> None:
    full_train, dev = read_hateval("train"), read_hateval("dev")
    dev = subsample(dev, args.dev_size, seed=0)
    sample = subsample(full_train, args.train_size, seed=0)
    train_all, val_all = split_off(sample, 0.1, seed=0)
    emit(f"hateval.setup train={len(train_all)} validation={len(val_all)} (sample of {len(full_train)} train rows) "
         f"test=dev {len(dev)}")
    embeddings = None
    if "embedding_head" in wanted:
        from models_zoo.backends.embedding_head import EmbeddingHeadBackend

        encoder = EmbeddingHeadBackend(["HS"], "binary")
        started = time.perf_counter()
        embeddings = {split: encoder.encode([i.text for i in items])
                      for split, items in (("train", train_all), ("val", val_all), ("test", dev))}
        n = len(train_all) + len(val_all) + len(dev)
        emit(f"hateval.minilm_encode_items_per_s {n / (time.perf_counter() - started):.1f}")

    for block, labels, task_type in (("hateval_HS", ("HS",), "binary"),
                                     ("hateval_HS_TR_AG", ("HS", "TR", "AG"), "multilabel")):
        train, val, test = (only_labels(x, labels) for x in (train_all, val_all, dev))
        y_test = C.gold_matrix(test, labels, task_type, "test")
        base = tfidf_baseline(train, val, test, labels, task_type)
        report(block, "tfidf_lr", base, None)
        if task_type == "binary":
            emit(f"{block}.tfidf_lr.hateval_two_class_f1 {two_class_f1(y_test, base['_scores'], base['_thresholds']['HS']):.4f}")
        full_base = tfidf_baseline(*split_off(only_labels(full_train, labels), 0.1, seed=0), test, labels, task_type)
        emit(f"{block}.tfidf_lr_full_train.f1_macro {full_base['f1_macro']:.4f}  (info: baseline on all {len(full_train)} rows)")

        runs = []
        if "embedding_head" in wanted and embeddings is not None:
            from models_zoo.backends.embedding_head import EmbeddingHeadBackend

            def run_head(labels=labels, task_type=task_type, train=train, val=val, test=test):
                backend = EmbeddingHeadBackend(labels, task_type)
                backend.fit_embeddings(embeddings["train"], train, embeddings["val"], val)
                return backend, backend.predict_embeddings(embeddings["test"])
            runs.append(("embedding_head", run_head))
        if "transformer_classifier" in wanted:
            from models_zoo.backends.transformer_classifier import TransformerClassifierBackend

            def run_tc(labels=labels, task_type=task_type, train=train, val=val, test=test, block=block):
                small = subsample(train, args.tc_train_size, seed=1)
                emit(f"{block}.transformer_classifier.train_rows {len(small)} epochs {args.tc_epochs}")
                backend = TransformerClassifierBackend(labels, task_type, {"epochs": args.tc_epochs,
                                                                           "batch_size": 32})
                same_rows = tfidf_baseline(small, val, test, labels, task_type)
                emit(f"{block}.tfidf_lr_same_rows_as_transformer.f1_macro {same_rows['f1_macro']:.4f}  "
                     f"roc_auc_macro {same_rows['roc_auc_macro']:.4f}  (info: baseline on the same {len(small)} rows)")
                backend.fit(small, val)
                return backend, backend.predict(test)
            runs.append(("transformer_classifier", run_tc))
        if "attention_bilstm" in wanted:
            from models_zoo.backends.attention_bilstm import AttentionBiLSTMBackend

            def run_bilstm(labels=labels, task_type=task_type, train=train, val=val, test=test):
                backend = AttentionBiLSTMBackend(labels, task_type, {"epochs": args.bilstm_epochs,
                                                                     "early_stopping_patience": 2})
                backend.fit(train, val)
                return backend, backend.predict(test)
            runs.append(("attention_bilstm", run_bilstm))

        for name, run in runs:
            started = time.perf_counter()
            backend, predictions = run()
            scores = scores_of(predictions, labels)
            metrics = test_metrics(y_test, scores, labels, task_type, backend.thresholds)
            report(block, name, metrics, base, f"  ({time.perf_counter() - started:.0f}s)")
            if task_type == "binary":
                emit(f"{block}.{name}.hateval_two_class_f1 "
                     f"{two_class_f1(y_test, scores, backend.thresholds['HS']):.4f}")
            if "best_epoch" in backend.metrics:
                emit(f"{block}.{name}.best_epoch {backend.metrics['best_epoch']}")


def crisislex_block(args: argparse.Namespace) -> None:
    from models_zoo.backends.embedding_head import EmbeddingHeadBackend

    events = crisislex_t6_events()
    per_event = {e: read_crisislex_t6(e, args.crisis_per_event, seed=0) for e in events}
    emit(f"crisislex.setup leave-one-event-out, {args.crisis_per_event} sampled rows per event, "
         f"{len(events)} events")
    encoder = EmbeddingHeadBackend(["on-topic"], "binary")
    vectors = {e: encoder.encode([i.text for i in items]) for e, items in per_event.items()}
    f1s: dict[str, list[float]] = {"tfidf_lr": [], "embedding_head": []}
    aucs: dict[str, list[float]] = {"tfidf_lr": [], "embedding_head": []}
    labels = ("on-topic",)
    for held in events:
        train_events = [e for e in events if e != held]
        pooled = [(i, v) for e in train_events for i, v in zip(per_event[e], vectors[e], strict=True)]
        rest, val_idx = split_off(list(range(len(pooled))), 0.1, seed=0)
        train = [pooled[k][0] for k in rest]
        val = [pooled[k][0] for k in val_idx]
        test = per_event[held]
        base = tfidf_baseline(train, val, test, labels, "binary")
        backend = EmbeddingHeadBackend(labels, "binary")
        backend.fit_embeddings(np.stack([pooled[k][1] for k in rest]), train,
                               np.stack([pooled[k][1] for k in val_idx]), val)
        y_test = C.gold_matrix(test, labels, "binary", "test")
        scores = scores_of(backend.predict_embeddings(vectors[held]), labels)
        ours = test_metrics(y_test, scores, labels, "binary", backend.thresholds)
        short = held.split("_", 1)[1]
        for name, metrics in (("tfidf_lr", base), ("embedding_head", ours)):
            f1s[name].append(metrics["f1_macro"])
            aucs[name].append(metrics["roc_auc_macro"])
        emit(f"crisislex.{short}.embedding_head.on_topic_f1 {ours['f1_macro']:.4f}  "
             f"tfidf_lr {base['f1_macro']:.4f}  ratio {ours['f1_macro'] / base['f1_macro']:.3f}")
    mean_base = {"f1_macro": float(np.mean(f1s["tfidf_lr"])), "roc_auc_macro": float(np.mean(aucs["tfidf_lr"]))}
    mean_ours = {"f1_macro": float(np.mean(f1s["embedding_head"])),
                 "roc_auc_macro": float(np.mean(aucs["embedding_head"]))}
    report("crisislex.mean", "tfidf_lr", mean_base, None)
    report("crisislex.mean", "embedding_head", mean_ours, mean_base)


def group_holdout_block(args: argparse.Namespace) -> None:
    """The default backend on each shared set's group hold-out vs TF-IDF + LR (issue 12)."""
    from bench._group_sets import load_sets, vectors_of
    from bench.defaults_grid import folds_of, test_figures
    from models_zoo.backends.embedding_head import EmbeddingHeadBackend, EmbeddingHeadConfig

    defaults = EmbeddingHeadConfig()
    emit(f"groups.setup embedding_head defaults head={defaults.head} class_weight={defaults.class_weight} "
         f"threshold_objective={defaults.threshold_objective}")
    # The grid's sizes (bench/defaults_grid.py), so its cached vectors serve both.
    sets = load_sets(t6_per_event=150 if args.quick else 600, t26_per_event=50 if args.quick else 150,
                     hateval_train=args.train_size, hateval_dev=args.dev_size)
    for s in sets:
        x, y = vectors_of(s), s.y()
        labels = (s.label,)
        figures: dict[str, list[dict[str, float]]] = {"embedding_head": [], "tfidf_lr": []}
        for train, val, test in folds_of(s):
            items = [[s.items[i] for i in idx] for idx in (train, val, test)]
            backend = EmbeddingHeadBackend(labels, "binary")
            backend.fit_embeddings(x[train], items[0], x[val], items[1])
            scores = backend._scores(x[test])[:, 0]
            figures["embedding_head"].append(test_figures(y[test], scores, backend.thresholds[s.label]))
            base = tfidf_baseline(*items, labels, "binary", objective=defaults.threshold_objective)
            figures["tfidf_lr"].append(test_figures(y[test], base["_scores"][:, 0], base["_thresholds"][s.label]))
        emit(f"groups.{s.name}.setup rows={len(s.items)} folds={len(s.folds)} (held-out groups per fold)")
        means = {name: {k: float(np.mean([f[k] for f in rows])) for k in ("macro_f1", "pos_f1", "roc_auc")}
                 for name, rows in figures.items()}
        for key in ("macro_f1", "pos_f1", "roc_auc"):
            ours, ref = means["embedding_head"][key], means["tfidf_lr"][key]
            emit(f"groups.{s.name}.embedding_head.{key} {ours:.4f}  tfidf_lr {ref:.4f}  "
                 f"ratio_vs_tfidf_lr {ours / ref:.3f}")


def calibration_compare_block(args: argparse.Namespace) -> None:
    """cross_validation vs group_cross_validation thresholds (issue 18; see the docstring)."""
    import random
    from dataclasses import replace

    from bench._group_sets import load_sets, vectors_of
    from bench.defaults_grid import folds_of, test_figures
    from models_zoo.backends.embedding_head import EmbeddingHeadBackend

    methods = ("cross_validation", "group_cross_validation")
    sets = {s.name: s for s in load_sets(t6_per_event=150 if args.quick else 600,
                                         t26_per_event=50 if args.quick else 150,
                                         hateval_train=args.train_size, hateval_dev=args.dev_size)
            if s.name in ("t6", "t26")}

    def compare(s, x, train, val, test) -> dict[str, dict[str, float]]:
        items = [replace(it, meta={"event": g}) for it, g in zip(s.items, s.groups, strict=True)]
        y = s.y()
        out = {}
        for method in methods:
            backend = EmbeddingHeadBackend((s.label,), "binary", {"threshold_calibration": method})
            backend.fit_embeddings(x[train], [items[i] for i in train], x[val], [items[i] for i in val])
            figures = test_figures(y[test], backend._scores(x[test])[:, 0], backend.thresholds[s.label])
            figures["threshold"] = backend.thresholds[s.label]
            figures["groups"] = backend.metrics["threshold_calibration"].get("groups") or 0
            out[method] = figures
        return out

    def line(name: str, rows: list[dict[str, dict[str, float]]]) -> None:
        cells = []
        for method in methods:
            pos = float(np.mean([r[method]["pos_f1"] for r in rows]))
            macro = float(np.mean([r[method]["macro_f1"] for r in rows]))
            cells.append(f"{method} pos_f1 {pos:.4f} macro_f1 {macro:.4f}")
        auc = float(np.mean([r[methods[0]]["roc_auc"] for r in rows]))
        emit(f"calibration.{name} " + "  ".join(cells) + f"  roc_auc {auc:.4f} n={len(rows)}")

    t6 = sets["t6"]
    x6 = vectors_of(t6)
    events = [fold[0] for fold in t6.folds]
    per_event_budget = 40 if args.quick else 80
    small = []
    for k, held in enumerate(events):
        trained = [events[(k + 1) % len(events)], events[(k + 2) % len(events)]]
        rows = []
        for event in trained:
            members = [i for i, g in enumerate(t6.groups) if g == event]
            rows += random.Random(k).sample(members, per_event_budget)
        order = sorted(rows)
        random.Random(0).shuffle(order)
        cut = round(len(order) * 0.2)
        test = [i for i, g in enumerate(t6.groups) if g == held]
        result = compare(t6, x6, sorted(order[cut:]), sorted(order[:cut]), test)
        small.append(result)
        emit(f"calibration.t6_{2 * per_event_budget}labels.{held} " + "  ".join(
            f"{m} pos_f1 {r['pos_f1']:.4f} t={r['threshold']:.2f} groups={r['groups']}"
            for m, r in result.items()) + f"  roc_auc {result[methods[0]]['roc_auc']:.4f}")
    line(f"t6_{2 * per_event_budget}labels.mean", small)
    for name, s in sets.items():
        x = vectors_of(s)
        rows = [compare(s, x, *fold) for fold in folds_of(s)]
        for held, r in zip(s.folds, rows, strict=True):
            emit(f"calibration.{name}_groups.{'+'.join(held) if len(held) == 1 else f'{len(held)}_events'} "
                 + "  ".join(f"{m} pos_f1 {v['pos_f1']:.4f} t={v['threshold']:.2f}" for m, v in r.items()))
        line(f"{name}_groups.mean", rows)
        randoms = []
        for seed in range(3):
            order = list(range(len(s.items)))
            random.Random(100 + seed).shuffle(order)
            cut_test, rest = sorted(order[:round(len(order) * 0.2)]), order[round(len(order) * 0.2):]
            cut = round(len(rest) * 0.2)
            randoms.append(compare(s, x, sorted(rest[cut:]), sorted(rest[:cut]), cut_test))
        line(f"{name}_random.mean", randoms)


def plugin_lines(filename: str, quick_kwargs: dict[str, int] | None = None) -> None:
    """Run another helper's bench module's `run()` and print its lines; in --quick mode pass
    the smaller sizes its `run` accepts."""
    path = ROOT / "bench" / filename
    if not path.is_file():
        emit(f"{filename}: not present, skipped")
        return
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import inspect

    accepted = inspect.signature(module.run).parameters
    kwargs = {k: v for k, v in (quick_kwargs or {}).items() if k in accepted}
    for line in module.run(**kwargs):
        emit(line)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=ONLY_CHOICES)
    parser.add_argument("--quick", action="store_true", help="small subsamples and 1 epoch (smoke run)")
    parser.add_argument("--train-size", type=int, default=None, help="HatEval train rows sampled (default 3000)")
    parser.add_argument("--tc-train-size", type=int, default=None, help="rows for transformer_classifier (default 1500)")
    parser.add_argument("--tc-epochs", type=int, default=None)
    parser.add_argument("--bilstm-epochs", type=int, default=None)
    parser.add_argument("--crisis-per-event", type=int, default=None)
    parser.add_argument("--dev-size", type=int, default=None, help="HatEval dev rows (default: all 1000)")
    parser.add_argument("--compare-calibration", action="store_true",
                        help="with groups: cross_validation vs group_cross_validation thresholds (issue 18)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.train_size = args.train_size or (600 if quick else 3000)
    args.tc_train_size = args.tc_train_size or (300 if quick else 1500)
    args.tc_epochs = args.tc_epochs or (1 if quick else 3)
    args.bilstm_epochs = args.bilstm_epochs or (1 if quick else 8)
    args.crisis_per_event = args.crisis_per_event or (150 if quick else 500)
    args.dev_size = args.dev_size or (300 if quick else None)
    wanted = set(args.only or ONLY_CHOICES)
    started = time.perf_counter()
    if wanted & {"baseline", "embedding_head", "transformer_classifier", "attention_bilstm"}:
        hateval_blocks(args, wanted)
    if "crisislex" in wanted:
        crisislex_block(args)
    if "groups" in wanted:
        if args.compare_calibration:
            calibration_compare_block(args)
        else:
            group_holdout_block(args)
    if "spans" in wanted:
        plugin_lines("quality_spans.py", {"train_size": 300, "epochs": 1} if quick else None)
    if "fusion" in wanted:
        plugin_lines("fusion_synthetic.py", {"n_train": 200, "epochs": 3} if quick else None)
    emit(f"quality.wall_s {time.perf_counter() - started:.0f}")


if __name__ == "__main__":
    main()
