"""models_zoo.registry: built-ins by lazy dotted path, plugins by entry point, clear errors."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from models_zoo.backends.base import Backend
from models_zoo.registry import BUILTIN_BACKENDS, UnknownBackend, available, get_backend

ROOT = Path(__file__).resolve().parents[2]


def test_it_lists_the_five_builtins() -> None:
    assert {"embedding_head", "transformer_classifier", "span_tagger", "attention_bilstm",
            "clip_fusion"} <= set(available())


@pytest.mark.parametrize("name", ["embedding_head", "transformer_classifier", "attention_bilstm"])
def test_it_resolves_builtins_to_backend_classes(name: str) -> None:
    backend_class = get_backend(name)
    assert issubclass(backend_class, Backend)
    assert backend_class.name == name
    schema = backend_class.Config.model_json_schema()
    assert schema["additionalProperties"] is False


def test_an_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownBackend) as error:
        get_backend("svm")
    message = str(error.value)
    assert "'svm'" in message
    for name in BUILTIN_BACKENDS:
        assert name in message


def test_it_finds_a_plugin_through_the_entry_point_group(tmp_path: Path) -> None:
    (tmp_path / "vigia_plugin_demo.py").write_text(textwrap.dedent("""
        from models_zoo.backends.base import Backend, BackendConfig

        class MajorityBackend(Backend):
            name = "majority"
            task_types = ("multilabel",)
            Config = BackendConfig
            def fit(self, train, validation, progress=None): raise NotImplementedError
            def predict(self, inputs): return []
            def save(self, directory): pass
            @classmethod
            def load(cls, directory): return cls(["A"], "multilabel")
    """))
    dist_info = tmp_path / "vigia_plugin_demo-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: vigia-plugin-demo\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(
        "[models_zoo.backends]\nmajority = vigia_plugin_demo:MajorityBackend\n"
    )
    script = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
        "from models_zoo.registry import available, get_backend\n"
        "assert 'majority' in available(), available()\n"
        "cls = get_backend('majority')\n"
        "print(cls.__name__, cls.name)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "MajorityBackend majority"
