"""The import contracts in pyproject.toml ([tool.importlinter]) hold: the layers, backends free of
Django, and no app importing another the wrong way. `make lint` runs the same command."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_lint_imports_keeps_every_contract():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout or "broken" not in done.stdout
    assert "kept" in done.stdout.lower()
