"""scripts/install.py hands pip's own settings to uv, which does not read pip's configuration:
the same indexes, find-links, constraints and certificate, whichever file or variable sets them."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("vigia_install", ROOT / "scripts" / "install.py")
install = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(install)


def _isolated(monkeypatch, tmp_path, conf: str) -> None:
    """pip reads only this config file and the variables the test sets."""
    for name in [n for n in list(__import__("os").environ) if n.startswith("PIP_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "pip.conf"
    path.write_text(conf)
    monkeypatch.setenv("PIP_CONFIG_FILE", str(path))


def test_pip_settings_come_from_its_config_file_and_variables_with_pips_priority(monkeypatch, tmp_path):
    _isolated(monkeypatch, tmp_path, (
        "[global]\nindex-url = https://mirror.example/simple\n"
        "extra-index-url = file:///mirror/a\n  file:///mirror/b\n"
        "trusted-host = mirror.example\nfind-links = /from/global\ncert = /etc/corp.pem\n"
        "[install]\nconstraint = /from/install.txt\n[download]\nfind-links = /not/for/install\n"
    ))
    monkeypatch.setenv("PIP_FIND_LINKS", "/from/env /second/env")

    found = install.pip_settings(Path(sys.executable))

    assert found["index-url"] == "https://mirror.example/simple"
    assert found["extra-index-url"] == "file:///mirror/a file:///mirror/b"  # a two-line list
    assert found["find-links"] == "/from/env /second/env"  # the variable wins over the files
    assert found["constraint"] == "/from/install.txt"
    assert found["trusted-host"] == "mirror.example"


def test_uv_gets_the_same_indexes_links_constraints_and_certificate(monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    flags, env = install.uv_arguments({
        "index-url": "https://mirror.example/simple",
        "extra-index-url": "file:///mirror/a file:///mirror/b",
        "find-links": "/opt/wheels",
        "constraint": "/etc/cap.txt",
        "trusted-host": "mirror.example",
        "cert": "/etc/corp.pem",
        "timeout": "60",  # not an install source: not handed over
    })

    pairs = list(zip(flags[::2], flags[1::2]))
    assert ("--index-strategy", "unsafe-best-match") in pairs  # pip weighs every index alike
    assert ("--index-url", "https://mirror.example/simple") in pairs
    assert [v for k, v in pairs if k == "--extra-index-url"] == ["file:///mirror/a", "file:///mirror/b"]
    assert ("--find-links", "/opt/wheels") in pairs
    assert ("--constraint", "/etc/cap.txt") in pairs
    assert ("--allow-insecure-host", "mirror.example") in pairs
    assert env == {"SSL_CERT_FILE": "/etc/corp.pem"}
    assert "60" not in flags


def test_no_index_and_an_explicit_certificate_variable_are_respected(monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", "/mine.pem")
    flags, env = install.uv_arguments({"no-index": "true", "cert": "/etc/corp.pem", "find-links": "/w"})
    assert "--no-index" in flags
    assert env == {}  # the user's own SSL_CERT_FILE stays


def test_the_makefile_installs_runtime_for_run_and_the_dev_tools_for_test():
    makefile = (ROOT / "Makefile").read_text()
    assert "\nrun: install\n" in makefile
    for target in ("test", "test-slow", "test-all", "lint"):
        assert f"\n{target}: install-dev\n" in makefile
    assert "scripts/install.py --venv $(VENV) --dev" in makefile
    # uv is pinned like everything else.
    assert any(line.startswith("uv==") for line in (ROOT / "constraints.txt").read_text().splitlines())
