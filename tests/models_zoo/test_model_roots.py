"""Issue 20: encoders are registered names or directories under the model roots
(VIGIA_MODEL_DIRS), and a refusal never says whether a path exists."""
from __future__ import annotations

import os

import pytest

from models_zoo.model_roots import (
    ModelRefused,
    check_model_name,
    model_roots,
    resolve_encoder,
    resolve_model,
)


@pytest.fixture
def roots(tmp_path, monkeypatch):
    first, second, outside = tmp_path / "models", tmp_path / "more", tmp_path / "outside"
    for directory in (first / "xlm-t", first / "org" / "bert", second / "clip", outside / "secret"):
        directory.mkdir(parents=True)
    (first / "glove.txt").write_text("flood 0.1 0.2\n")
    monkeypatch.setenv("VIGIA_MODEL_DIRS", os.pathsep.join([str(first), "", str(second)]))
    return first, second, outside


def test_no_roots_configured_allows_only_the_registered_names(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIA_MODEL_DIRS", "")
    assert model_roots() == []
    assert check_model_name("default") == "default"
    assert os.path.isdir(resolve_encoder("default"))  # the packaged MiniLM
    with pytest.raises(ModelRefused):
        resolve_encoder(str(tmp_path))


def test_directories_under_a_root_are_named_by_path_or_relative_name(roots):
    first, second, _ = roots
    assert model_roots() == [first.resolve(), second.resolve()]
    assert resolve_encoder(str(first / "xlm-t")) == str((first / "xlm-t").resolve())
    assert resolve_encoder("xlm-t") == str((first / "xlm-t").resolve())
    assert resolve_encoder("org/bert") == str((first / "org" / "bert").resolve())  # a hub-style name
    assert resolve_encoder("clip") == str((second / "clip").resolve())
    assert resolve_model("glove.txt", "file") == str((first / "glove.txt").resolve())


@pytest.mark.parametrize("name", ["/etc", "../outside/secret", "xlm-t/../../outside/secret", "~",
                                  "sentence-transformers/all-MiniLM-L6-v2", "glove.txt", "", "a\x00b"])
def test_anything_else_is_refused(roots, name):
    with pytest.raises(ModelRefused):
        resolve_encoder(name)


def test_a_link_under_a_root_that_points_outside_is_refused(roots):
    first, _, outside = roots
    (first / "escape").symlink_to(outside / "secret", target_is_directory=True)
    with pytest.raises(ModelRefused):
        resolve_encoder("escape")


def test_the_refusal_is_the_same_whether_or_not_the_path_exists(roots):
    _, _, outside = roots
    existing, missing = str(outside / "secret"), str(outside / "nothing-here")
    with pytest.raises(ModelRefused) as there:
        resolve_encoder(existing)
    with pytest.raises(ModelRefused) as absent:
        resolve_encoder(missing)
    assert str(there.value).replace(existing, "X") == str(absent.value).replace(missing, "X")
    assert "exist" not in str(there.value)
