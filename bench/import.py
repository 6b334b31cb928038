"""Import throughput against a bare PostgreSQL COPY of the same rows, and peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vigia_bench .venv/bin/python bench/import.py
    .venv/bin/python bench/import.py --rows 100000 --rows 1000000

For each size N it writes a CSV of N real shared tweets (CrisisLex T6/T26, trump, HatEval),
replicated with a " #k" suffix so no row is a duplicate, with id, text, created_at and
retweet_count columns. Then, in fresh child processes (so peak RSS is per run):

- bare COPY: the same rows' final column values (text, normalized text, content hash, meta,
  external id; prepared beforehand, not timed) streamed with `COPY ... FROM STDIN` into a table
  created `LIKE annotator_example INCLUDING ALL` plus its project foreign key (same indexes,
  unique constraint and FK);
- import: `annotator.importers.import_file(project, csv, "csv")`, the product path (parse,
  validate, normalize, hash, COPY to staging, dedupe insert).

Prints one figure per line: rows/s of each, the ratio import/COPY (goal >= 0.5), and the peak
RSS of each import run (flat memory: roughly equal at both sizes).
"""
from __future__ import annotations

import argparse
import csv
import gc
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
# bench/ holds queue.py, which would shadow the standard library's queue module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Debug is off by default, and then settings require a key.
os.environ.setdefault("VIGIA_SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vigia_bench")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _pool() -> list[tuple[str, str, str, str]]:
    """(id, text, created_at, retweet_count) of real shared tweets."""
    rows: list[tuple[str, str, str, str]] = []
    for path in sorted(glob.glob(str(DATASETS / "crisislex/CrisisLexT6/*/*.csv"))):
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            rows.extend((r[0].strip("'"), r[1], "", "") for r in reader)
    with open(DATASETS / "trump_tweets/trump_tweets.csv", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        rows.extend((r[4], r[0], r[1], r[3]) for r in reader if len(r) == 5)
    # A few tweet ids occur in two CrisisLex files with different text; the importer (rightly)
    # refuses one id for two texts in a file, so keep each id's first row.
    seen: set[str] = set()
    return [r for r in rows if not (r[0] in seen or seen.add(r[0]))]


def write_source(n: int, path: Path) -> None:
    pool = _pool()
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "created_at", "retweet_count"])
        for i in range(n):
            tweet_id, text, created, retweets = pool[i % len(pool)]
            copy = i // len(pool)
            writer.writerow([f"{tweet_id}-{copy}", f"{text} #{i}", created, retweets])


def _setup_django() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _rss_mb() -> float:
    """Peak RSS of this process (VmHWM), in MB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets VmHWM, so the peak covers the import only."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def child_copy(source: Path) -> dict[str, float]:
    """Bare COPY of the final rows (prepared into a COPY text file first, untimed)."""
    _setup_django()
    from django.db import connection

    from annotator.importers.mapping import ColumnMapping, RowBuilder
    from annotator.importers.readers import reader_for
    from annotator.models import Project

    project = Project.objects.create(name="bench-copy", task_type="binary")
    builder = RowBuilder(project, ColumnMapping(), "csv")
    prepared = source.with_suffix(".copy")
    rows = 0
    esc = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
    with open(source, encoding="utf-8", newline="") as f, open(prepared, "w", encoding="utf-8") as out:
        reader = reader_for("csv", f)
        for record in reader:
            if builder.columns is None:
                builder.resolve(reader.columns, 1, strict=True)
            row = builder.build(record)
            meta = json.dumps(row.meta, ensure_ascii=False)
            values = [str(project.pk), row.text, row.normalized_text, meta, row.external_id,
                      row.content_hash, "", "0.5", "0", "2024-01-01 00:00:00+00"]
            out.write("\t".join(v.translate(esc) for v in values) + "\n")
            rows += 1
    with connection.cursor() as c:
        c.execute("DROP TABLE IF EXISTS bench_copy_example")
        c.execute("CREATE TABLE bench_copy_example (LIKE annotator_example INCLUDING ALL)")
        # LIKE copies columns, defaults, indexes and the unique constraint but not foreign
        # keys; add the project FK as Django declares it, so the table is truly equivalent.
        c.execute(
            "ALTER TABLE bench_copy_example ADD FOREIGN KEY (project_id) "
            "REFERENCES annotator_project (id) DEFERRABLE INITIALLY DEFERRED"
        )
    started = time.perf_counter()
    with connection.cursor() as c, open(prepared, encoding="utf-8") as f, c.cursor.copy(
        "COPY bench_copy_example (project_id, text, normalized_text, meta, external_id, "
        "content_hash, image, queue_key, assigned_count, created_at) FROM STDIN"
    ) as copy:
        while block := f.read(1 << 20):
            copy.write(block)
    seconds = time.perf_counter() - started
    with connection.cursor() as c:
        c.execute("DROP TABLE bench_copy_example")
    project.delete()
    prepared.unlink()
    return {"rows": rows, "seconds": seconds}


def child_import(source: Path) -> dict[str, float]:
    _setup_django()
    from django.db import connection

    from annotator.importers import import_file
    from annotator.models import Project

    project = Project.objects.create(name="bench-import", task_type="binary")
    gc.collect()
    _reset_peak_rss()
    base_rss = _rss_mb()
    started = time.perf_counter()
    result = import_file(project, source, "csv")
    seconds = time.perf_counter() - started
    peak = _rss_mb()
    with connection.cursor() as c:  # faster than the ORM's cascade for a million rows
        c.execute("DELETE FROM annotator_example WHERE project_id = %s", [project.pk])
    project.delete()
    return {"rows": result.imported, "duplicates": result.duplicates, "seconds": seconds,
            "base_rss_mb": base_rss, "peak_rss_mb": peak}


def prepare_database() -> None:
    """Create the bench database when it is missing and migrate it (a fresh machine has neither)."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    name = cfg["NAME"]
    admin = f"postgres://{cfg['USER'] or 'postgres'}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], check=True, cwd=ROOT)


def run_child(kind: str, source: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--source", str(source)],
        capture_output=True, text=True,
    )
    if out.returncode:
        sys.exit(f"bench/import.py: the {kind} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, action="append", help="sizes (default 100000 1000000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; medians are printed")
    parser.add_argument("--child", choices=["copy", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child_copy(args.source) if args.child == "copy" else child_import(args.source)
        print(json.dumps(result))
        return
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("bench/import.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    sizes = args.rows or [100_000, 1_000_000]
    prepare_database()
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            source = Path(tmp) / f"tweets-{n}.csv"
            write_source(n, source)
            mb = source.stat().st_size / 1e6
            bares, imps = [], []
            for _ in range(args.repeat):  # interleaved: both see the same machine load
                bares.append(run_child("copy", source))
                imps.append(run_child("import", source))
            copy_rate = statistics.median(b["rows"] / b["seconds"] for b in bares)
            import_rate = statistics.median(i["rows"] / i["seconds"] for i in imps)
            imp = imps[-1]
            peak = max(i["peak_rss_mb"] for i in imps)
            print(f"rows={n} file_mb={mb:.1f} runs={args.repeat}")
            print(f"rows={n} bare_copy_rows_per_s={copy_rate:.0f}")
            print(f"rows={n} import_rows_per_s={import_rate:.0f} (imported {imp['rows']:.0f}, duplicates {imp['duplicates']:.0f})")
            print(f"rows={n} import_vs_copy_ratio={import_rate / copy_rate:.3f}")
            print(f"rows={n} import_peak_rss_mb={peak:.0f} (at start {imp['base_rss_mb']:.0f})")
            sys.stdout.flush()
            source.unlink()


if __name__ == "__main__":
    main()
