"""Retraining the live loop: `embedding_head` on 10k labels, cold (no embedding store) vs warm
(a ready store, nothing re-encoded), as the worker runs it (`run_training`).

Run (PostgreSQL on 127.0.0.1; the bench creates and drops its own database):

    HF_HUB_OFFLINE=1 nice .venv/bin/python bench/retrain.py [--train-n 10000] [--quick]
        [--database-url postgres://postgres@127.0.0.1:5432/vigia_bench_retrain] [--profile]

Data: HatEval EN train + dev (real tweets, 10,000 with labels HS/TR/AG) from ../shared/datasets,
else the repository's sample repeated with a suffix to reach `--train-n`. Figures, each against
the others of the same run: `retrain_cold_s` (every text encoded), `embedding_job_s` (filling
the store inline), `retrain_warm_s` (best of two warm runs; goal < 5 s on 2 cores),
`retrain_cold_vs_warm`, predict-all of every example with the cold run's version before and after
the store is filled (`predict_all_cold_s`, `predict_all_warm_s`, `predict_all_cold_vs_warm`:
embedding_head reads stored vectors instead of encoding), and the warm run's phases (data snapshot, store read, head fit,
calibration, artifact + version) from the run's progress events and a cProfile (`--profile`
prints the 25 costliest calls of the warm predict-all and of the last warm run).
"""
from __future__ import annotations

import sys
from pathlib import Path

_BENCH_DIR = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != _BENCH_DIR]
sys.path.insert(0, str(_BENCH_DIR.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

os.environ.setdefault("VIGIA_SECRET_KEY", "bench-only-key-retrain-live-loop")
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/vigia_bench_retrain"


def load_items(n: int):
    from bench import _data
    from models_zoo.backends.base import Item

    if not (_data.DATASETS / "hateval2019" / "train_en.tsv").is_file():
        _data.DATASETS = _data.ROOT / "tests" / "fixtures" / "datasets"
    base = _data.read_hateval("train") + _data.read_hateval("dev")
    items = list(base[:n])
    copy = 1
    while len(items) < n:  # only for the small repository sample
        items += [Item(text=f"{it.text} ({copy})", labels=it.labels) for it in base[: n - len(items)]]
        copy += 1
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--train-n", type=int, default=10000, help="labelled examples")
    parser.add_argument("--profile", action="store_true", help="cProfile the last warm run")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1000 labelled")
    args = parser.parse_args()
    if args.quick:
        args.train_n = 1000

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    var_dir = Path(tempfile.mkdtemp(prefix="vigia-bench-retrain-"))
    os.environ["VIGIA_VAR_DIR"] = str(var_dir)
    from bench.embeddings import figure, make_project, recreate_database, timed

    try:
        recreate_database(args.database_url)
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        import torch
        from django.contrib.auth import get_user_model

        from annotator.services.embeddings import embed_inline, request_embedding_set
        from models_zoo.backends._encoders import configured_engine, encode_sentences
        from models_zoo.models import ModelVersion, Prediction
        from models_zoo.services.prediction import predict_project
        from models_zoo.services.training import start_training_run
        from models_zoo.services.training_worker import run_training

        figure("torch_threads", torch.get_num_threads())
        print(f"encoder_engine {configured_engine()}", flush=True)
        owner = get_user_model().objects.create_user("bench")
        project, texts = make_project("retrain", load_items(args.train_n), owner, annotate=True)
        figure("labelled_examples", len(texts))
        encode_sentences("default", texts[:64])  # load (and export) the encoder outside the timings

        def train(profile: bool = False) -> tuple[float, str]:
            run = start_training_run(project, "embedding_head", {"seed": 1}, owner, enqueue=False)
            if profile:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                elapsed, version = timed(lambda: profiler.runcall(run_training, run.pk))
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            else:
                elapsed, version = timed(lambda: run_training(run.pk))
            run.refresh_from_db()
            if version is None:
                raise RuntimeError(f"training failed: {run.error}")
            return elapsed, run.log

        def predict_all(version_id: int, profile: bool = False) -> tuple[float, int]:
            Prediction.objects.filter(model_version_id=version_id).delete()
            if not profile:
                return timed(lambda: predict_project(project.pk, version_id))
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            out = timed(lambda: profiler.runcall(predict_project, project.pk, version_id))
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            return out

        cold_s, cold_log = train()
        print("cold_run_log:\n" + cold_log, flush=True)
        cold_version = ModelVersion.objects.get(run__project=project)
        predict_cold_s, predicted = predict_all(cold_version.pk)
        embed_s, _ = timed(lambda: embed_inline(request_embedding_set(project, enqueue=False)))
        predict_warm_s, predicted_warm = predict_all(cold_version.pk, profile=args.profile)
        assert predicted == predicted_warm == project.examples.count()
        warm = [train(), train(profile=args.profile)]
        warm_s = min(w[0] for w in warm)
        print("warm_run_log:\n" + warm[-1][1], flush=True)
        figure("retrain_cold_s", cold_s, "s")
        figure("embedding_job_s", embed_s, "s")
        figure("retrain_warm_s", warm_s, "s")
        figure("retrain_cold_vs_warm", cold_s / warm_s)
        figure("predict_all_examples", predicted)
        figure("predict_all_cold_s", predict_cold_s, "s")
        figure("predict_all_warm_s", predict_warm_s, "s")
        figure("predict_all_cold_vs_warm", predict_cold_s / predict_warm_s)
    finally:
        from django.db import connections

        connections.close_all()
        recreate_database(args.database_url, drop_only=True)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
