"""Import throughput of doccano 1.8.4 (default setup) against Vigia's importer, same file and run.

    .venv/bin/python bench/doccano.py                  # 100k rows
    .venv/bin/python bench/doccano.py --rows 10000 --rows 100000 --repeat 3

For each size N it writes the CSV of bench/import.py's `write_source` (N real shared tweets, columns
id, text, created_at, retweet_count) and times, in fresh child processes, interleaved per repeat:

- doccano: what `pip install doccano==1.8.4` gives, in a bench-only venv (bench/.doccano-venv,
  created on first use, with marshmallow<4 and numpy<2: see ERA_PINS; never a project dependency)
  with the environment the `doccano` command itself sets up (production settings, SQLite database
  and media under a fresh DOCCANO_HOME). Untimed: migrate, create_roles, an admin user, a
  text-classification project and the filepond TemporaryUpload record its upload view would
  create. Timed: `data_import.celery_tasks.import_dataset` (the task its import API enqueues),
  called synchronously with the upload form's CSV defaults; that is its own path: CSV parse, pandas
  batches of IMPORT_BATCH_SIZE, Example bulk_create, label types and labels, then the move of the
  upload to the file store. The examples stored are counted afterwards.
- vigia: bench/import.py's child run, `annotator.importers.import_file(project, csv, "csv")` into
  PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/vigia_bench).

- bare COPY: bench/import.py's COPY child (the same rows' final values streamed into a copy of
  annotator_example with all its indexes), the ceiling for any importer into that table.

Prints rows/s of each (medians over --repeat), the ratio vigia/doccano (issue goal: >= 10x) and
the ratio bare COPY/doccano (how far that goal is reachable on this machine at all).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH = Path(__file__).resolve().parent
# bench/ holds queue.py, which would shadow the standard library's queue module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
ROOT = BENCH.parent
DATASETS = ROOT.parent / "shared" / "datasets"
VENV = BENCH / ".doccano-venv"
VENV_PYTHON = VENV / "bin" / "python"
DOCCANO = "doccano==1.8.4"
# doccano 1.8.4 (2023) leaves these open; today's releases break it before Django starts
# (environs 9.5 reads marshmallow.__version_info__, gone in marshmallow 4; pandas 1.5 wheels are
# built against numpy 1). Hold them to what was current when it was released.
ERA_PINS = ["marshmallow<4", "numpy<2"]


def _load_import_bench() -> ModuleType:
    """bench/import.py as a module (its file name is a keyword, so not importable by name)."""
    spec = importlib.util.spec_from_file_location("bench_import", BENCH / "import.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_venv() -> None:
    """Create bench/.doccano-venv with doccano 1.8.4 unless it is already there and loads."""
    check = [str(VENV_PYTHON), "-c",
             "import environs, pandas, importlib.metadata as m; print(m.version('doccano'))"]
    if VENV_PYTHON.exists():
        if subprocess.run(check, capture_output=True, text=True).stdout.strip() == "1.8.4":
            return
    print(f"bench/doccano.py: installing {DOCCANO} into {VENV.relative_to(ROOT)} (bench-only tool)",
          flush=True)
    started = time.perf_counter()
    if not VENV_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV_PYTHON), "-m", "pip", "install", "-q", DOCCANO, *ERA_PINS], check=True)
    print(f"bench/doccano.py: installed in {time.perf_counter() - started:.0f}s", flush=True)


def child_doccano(source: Path, home: Path) -> dict[str, Any]:
    """Runs under the doccano venv's python: set up a fresh doccano, then time import_dataset."""
    import io

    import backend

    # What doccano's CLI (backend/cli.py) sets before Django starts.
    os.environ.update({
        "DOCCANO_HOME": str(home),
        "STANDALONE": "True",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": f"sqlite:///{home / 'db.sqlite3'}",
        "MEDIA_ROOT": str(home / "media"),
    })
    sys.path.append(str(Path(backend.__file__).parent))
    (home / "media").mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    import shortuuid
    from data_import.celery_tasks import import_dataset
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.files import File
    from django.core.management import call_command
    from django_drf_filepond.models import TemporaryUpload
    from examples.models import Example
    from projects.models import ProjectType, TextClassificationProject

    call_command("migrate", verbosity=0, interactive=False)
    call_command("create_roles", stdout=io.StringIO())
    user = User.objects.create_superuser("admin", "admin@example.com", "password")
    project = TextClassificationProject.objects.create(
        name="bench", project_type=ProjectType.DOCUMENT_CLASSIFICATION, created_by=user
    )
    project.add_admin()
    # As django_drf_filepond's FilepondStandardFileUploader stores an upload.
    upload_id, file_id = shortuuid.uuid(), shortuuid.uuid()
    with open(source, "rb") as f:
        TemporaryUpload(upload_id=upload_id, file_id=file_id, file=File(f, name=file_id),
                        upload_name=source.name, upload_type=TemporaryUpload.FILE_DATA,
                        uploaded_by=user).save()
    started = time.perf_counter()
    result = import_dataset(  # the upload form's CSV defaults (data_import/pipeline/catalog.py)
        user_id=user.id, project_id=project.id, file_format="CSV", upload_ids=[upload_id],
        task=ProjectType.DOCUMENT_CLASSIFICATION, encoding="utf_8", delimiter=",",
        column_data="text", column_label="label",
    )
    seconds = time.perf_counter() - started
    errors = result["error"]
    return {"rows": Example.objects.filter(project=project).count(), "seconds": seconds,
            "errors": len(errors), "first_error": errors[0] if errors else None,
            "batch_size": settings.IMPORT_BATCH_SIZE,
            "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]}


def run_doccano(source: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="doccano-home-") as home:
        out = subprocess.run(
            [str(VENV_PYTHON), __file__, "--child", "--source", str(source), "--home", home],
            stdout=subprocess.PIPE, text=True, cwd=home,
        )  # stderr passes through: whatever doccano logs is shown
    if out.returncode:
        sys.exit(f"bench/doccano.py: the doccano run failed (rc={out.returncode}), see stderr above")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, action="append", help="sizes (default 100000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; medians are printed")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_doccano(args.source, args.home)))
        return
    if not DATASETS.is_dir():
        sys.exit(f"bench/doccano.py: shared datasets not found at {DATASETS} (the tweets)")
    bench_import = _load_import_bench()
    ensure_venv()
    bench_import.prepare_database()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows or [100_000]:
            source = Path(tmp) / f"tweets-{n}.csv"
            bench_import.write_source(n, source)
            doccanos, vigias, copies = [], [], []
            for _ in range(args.repeat):  # interleaved: all see the same machine load
                doccanos.append(run_doccano(source))
                vigias.append(bench_import.run_child("import", source))
                copies.append(bench_import.run_child("copy", source))
            copy_rate = statistics.median(c["rows"] / c["seconds"] for c in copies)
            doccano_rate = statistics.median(d["rows"] / d["seconds"] for d in doccanos)
            vigia_rate = statistics.median(v["rows"] / v["seconds"] for v in vigias)
            d, v = doccanos[-1], vigias[-1]
            print(f"rows={n} file_mb={source.stat().st_size / 1e6:.1f} runs={args.repeat}")
            print(f"rows={n} doccano_rows_per_s={doccano_rate:.0f} (stored {d['rows']}, "
                  f"errors {d['errors']}, {d['database']}, batch {d['batch_size']})")
            if d["first_error"]:
                print(f"rows={n} doccano_first_error={d['first_error']}")
            print(f"rows={n} vigia_rows_per_s={vigia_rate:.0f} (imported {v['rows']:.0f}, "
                  f"duplicates {v['duplicates']:.0f})")
            print(f"rows={n} vigia_vs_doccano={vigia_rate / doccano_rate:.1f}x")
            print(f"rows={n} bare_copy_rows_per_s={copy_rate:.0f} "
                  f"bare_copy_vs_doccano={copy_rate / doccano_rate:.1f}x "
                  f"vigia_vs_copy={vigia_rate / copy_rate:.2f}")
            sys.stdout.flush()
            source.unlink()


if __name__ == "__main__":
    main()
