"""Importing the model package, registry, artifacts and metrics must not import torch: the web
process and the annotation UI stay light, heavy imports happen on first backend use."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_models_zoo_does_not_import_torch() -> None:
    script = (
        "import sys\n"
        "import models_zoo, models_zoo.registry, models_zoo.artifacts, models_zoo.metrics\n"
        "import models_zoo.backends, models_zoo.backends.base\n"
        "models_zoo.registry.available()\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules)\n"
        "print(','.join(heavy) or 'clean')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


def test_the_check_can_fail_when_torch_is_imported() -> None:
    # Guard against a vacuous test: the same probe sees torch once a backend module is imported.
    script = (
        "import sys\n"
        "import models_zoo.backends.attention_bilstm\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip() == "True", result.stderr
