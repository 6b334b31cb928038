"""Install Vigia into a virtual environment, for `make install` (what `make run` needs) and
`make install-dev` (that plus the test and lint tools `make test` and `make lint` use).

    python3 scripts/install.py [--venv .venv] [--dev] [--pip]

Every package comes at the version `constraints.txt` pins (torch is the CPU build: an unpinned
torch pulls gigabytes of CUDA packages).

uv installs them: it downloads and unpacks in parallel, so a new venv takes about 10 s where
pip took about 60 s (measured on a quiet 2-core host with empty caches: the figures are in
docs/benchmarks.md). uv does not read pip's configuration, so the settings pip would use here
(index, extra indexes, find-links, constraint files, certificate bundle, trusted hosts; from
pip.conf files and PIP_* variables alike) are handed to it as its own flags. When uv cannot be
installed or fails, pip installs everything as before (`--pip` asks for pip directly).

Quiet by design: nothing prints unless something fails (then the installer's own errors show).
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"
# `pip config list` prints `section.key='value'` over every config file merged (the later file
# wins), and `:env:.key` for PIP_* variables. What `pip install` uses, lowest priority first: the
# [global] section, the [install] section, the environment. Other sections are other commands'.
_SCOPES = {"global": 0, "install": 1, ":env:": 2}
_CONFIG_LINE = re.compile(r"^(?P<scope>[^.]*)\.(?P<key>[a-z-]+)=(?P<value>.*)$")


def pip_settings(python: Path) -> dict[str, str]:
    """pip's effective settings in this environment: {key: value}, `pip config list` read with
    each key's highest-priority scope. List values come back space-separated."""
    listed = subprocess.run(
        [str(python), "-m", "pip", "config", "list"], capture_output=True, text=True, check=False,
    ).stdout
    chosen: dict[str, tuple[int, str]] = {}
    for line in listed.splitlines():
        match = _CONFIG_LINE.match(line.strip())
        if match is None:
            continue
        priority = _SCOPES.get(match["scope"])
        if priority is None:
            continue
        value = match["value"]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        value = " ".join(value.replace("\\n", " ").split())  # a multi-line list prints "\n"
        if match["key"] not in chosen or priority >= chosen[match["key"]][0]:
            chosen[match["key"]] = (priority, value)
    return {key: value for key, (_, value) in chosen.items()}


def uv_arguments(settings: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """pip's settings as uv flags (and environment): the same indexes, links and constraints.
    pip weighs every index alike, hence uv's `unsafe-best-match` (uv's default takes a package
    from the first index that has it)."""
    flags = ["--index-strategy", "unsafe-best-match"]
    env: dict[str, str] = {}
    if settings.get("index-url"):
        flags += ["--index-url", settings["index-url"]]
    if settings.get("no-index", "").lower() in {"1", "true", "yes", "on"}:
        flags.append("--no-index")
    for option, key in (("--extra-index-url", "extra-index-url"), ("--find-links", "find-links"),
                        ("--constraint", "constraint"), ("--allow-insecure-host", "trusted-host")):
        for value in settings.get(key, "").split():
            flags += [option, value]
    if settings.get("cert") and "SSL_CERT_FILE" not in os.environ:
        env["SSL_CERT_FILE"] = settings["cert"]
    return flags, env


def _run(command: list[str], env: dict[str, str] | None = None) -> bool:
    return subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})}, check=False).returncode == 0


def _pip(python: Path) -> list[str]:
    return [str(python), "-m", "pip", "install", "-qq", "--disable-pip-version-check", "--no-compile"]


def pip_install(python: Path, target: str) -> bool:
    """The slow path: pip, one package at a time. --no-compile: Python compiles the modules it
    imports on first use instead of pip byte-compiling 1.8 GB of packages."""
    pip = _pip(python)
    return (_run([*pip, "torch==2.13.0", "-c", str(CONSTRAINTS)])
            and _run([*pip, "-e", target, "-c", str(CONSTRAINTS)]))


def uv_install(python: Path, target: str) -> bool:
    pip = _pip(python)
    # uv itself at the version constraints.txt pins.
    if not _run([*pip, "uv", "-c", str(CONSTRAINTS)]):
        return False
    uv = python.parent / "uv"
    flags, env = uv_arguments(pip_settings(python))
    return _run([str(uv), "pip", "install", "--quiet", "--python", str(python), *flags,
                 "-c", str(CONSTRAINTS), "-e", target], env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", default=".venv", help="the virtual environment (created if missing)")
    parser.add_argument("--dev", action="store_true",
                        help="also the test and lint tools (the `dev` extra: pytest, ruff, ...)")
    parser.add_argument("--pip", action="store_true", help="install with pip only (slower)")
    args = parser.parse_args(argv)

    venv = (ROOT / args.venv) if not Path(args.venv).is_absolute() else Path(args.venv)
    python = venv / "bin" / "python"
    began = time.perf_counter()
    what = "Vigia, its dependencies and the dev tools" if args.dev else "Vigia and its dependencies"
    print(f"Installing {what} into {args.venv} (once)...", flush=True)
    if not python.exists() and not _run([sys.executable, "-m", "venv", str(venv)]):
        print(f"could not create the virtual environment {venv}", file=sys.stderr)
        return 1
    target = ".[dev]" if args.dev else "."
    done = False
    if not args.pip:
        done = uv_install(python, target)
        if not done:
            print("uv could not install them (above); installing with pip instead (slower)...",
                  flush=True)
    if not done and not pip_install(python, target):
        print("the installation failed (pip's errors above); run "
              f"{shlex.join([sys.executable, 'scripts/install.py', *(argv or sys.argv[1:])])} "
              "again once the cause is fixed", file=sys.stderr)
        return 1
    print(f"Installed in {time.perf_counter() - began:.0f} s.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
