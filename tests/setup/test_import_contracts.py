"""The import contracts in pyproject.toml ([tool.importlinter]) hold: the layers, backends free of
Django, and no app importing another the wrong way. `make lint` runs the same command."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_lint_imports_keeps_every_contract():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout or "broken" not in done.stdout
    assert "kept" in done.stdout.lower()


def test_every_hook_annotator_calls_is_provided_by_models_zoo():
    # annotator reaches models_zoo only through config.hooks: a name without a provider would
    # fail at the first call, so every declared hook is provided once the apps are ready.
    from config import hooks

    missing = sorted(name for name in hooks.HOOKS if not hooks.provided(name))
    assert missing == []


def test_a_hook_without_provider_says_so_or_gives_the_default():
    from config import hooks

    with pytest.raises(ValueError, match="unknown hook"):
        hooks.call("no_such_hook")
    with pytest.raises(ValueError, match="unknown hook"):
        hooks.provide("no_such_hook", len)
    with pytest.raises(ValueError, match="unknown hook"):
        hooks.call("no_such_hook", default=7)
