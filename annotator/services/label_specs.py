"""Label schemas of a project: parsing label specs (names, shortcut keys, colours), completing
them with free shortcuts and palette colours, and the label-count rules of each task type.
`annotator.services.projects` applies them (and re-exports these names)."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from annotator.models import Label, TaskType
from annotator.services.errors import ProjectRuleError

# Shortcut keys handed out in order when a label comes without one: digits first (as in
# doccano / Label Studio), then the letter rows.
DEFAULT_SHORTCUTS = "123456789qwertyuiopasdfghjklzxcvbnm"
PALETTE = [
    "#ef4444",
    "#3b82f6",
    "#22c55e",
    "#eab308",
    "#a855f7",
    "#ec4899",
    "#14b8a6",
    "#f97316",
    "#6366f1",
    "#84cc16",
]
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
# Keys the annotation page keeps for itself (accept, skip, undo, help).
RESERVED_SHORTCUTS = {" ", "?"}


@dataclass
class LabelSpec:
    name: str
    shortcut: str = ""
    color: str = ""


def parse_label_specs(raw: Any, field: str = "labels") -> list[LabelSpec]:
    """Accept `["HS", ...]` or `[{"name", "shortcut", "color"}, ...]` (mixed is fine)."""
    if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
        raise ProjectRuleError("labels must be a list of names or objects.", field)
    specs = []
    for i, item in enumerate(raw):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, Mapping):
            raise ProjectRuleError(f"labels[{i}] must be a name or an object.", field)
        extra = set(item) - {"name", "shortcut", "color"}
        if extra:
            raise ProjectRuleError(
                f"labels[{i}] has unknown keys: {', '.join(sorted(extra))}.", field
            )
        name, shortcut, color = (
            item.get("name"),
            item.get("shortcut") or "",
            item.get("color") or "",
        )
        if not isinstance(name, str) or not name.strip():
            raise ProjectRuleError(f"labels[{i}].name must be a non-empty string.", field)
        if not isinstance(shortcut, str) or not isinstance(color, str):
            raise ProjectRuleError(f"labels[{i}]: shortcut and color must be strings.", field)
        specs.append(LabelSpec(name=name.strip(), shortcut=shortcut, color=color))
    return specs


def check_label(spec: LabelSpec, where: str, field: str = "labels") -> None:
    if not spec.name:
        raise ProjectRuleError(f"{where}: name must not be empty.", field)
    if len(spec.name) > 100:
        raise ProjectRuleError(f"{where}: name is longer than 100 characters.", field)
    if spec.shortcut and (len(spec.shortcut) != 1 or spec.shortcut in RESERVED_SHORTCUTS):
        raise ProjectRuleError(
            f"{where}: shortcut must be one key other than space and '?', got {spec.shortcut!r}.",
            field,
        )
    if spec.color and not COLOR_RE.match(spec.color):
        raise ProjectRuleError(f"{where}: color must look like #rrggbb, got {spec.color!r}.", field)


def complete_label_specs(specs: list[LabelSpec], taken: Iterable[Label] = ()) -> list[LabelSpec]:
    """Validate `specs` against each other and the labels already `taken`, and fill in missing
    shortcuts and colours (the first free key of DEFAULT_SHORTCUTS, the next palette colour)."""
    taken = list(taken)
    names = {label.name.lower() for label in taken}
    keys = {label.shortcut.lower() for label in taken if label.shortcut}
    for i, spec in enumerate(specs):
        where = f"labels[{i}] ({spec.name!r})"
        check_label(spec, where)
        if spec.name.lower() in names:
            raise ProjectRuleError(f"{where}: the label name is used twice.", "labels")
        names.add(spec.name.lower())
        if spec.shortcut:
            if spec.shortcut.lower() in keys:
                raise ProjectRuleError(
                    f"{where}: shortcut {spec.shortcut!r} is used twice.", "labels"
                )
            keys.add(spec.shortcut.lower())
    free_keys = (k for k in DEFAULT_SHORTCUTS if k not in keys)
    for i, spec in enumerate(specs):
        if not spec.shortcut:
            spec.shortcut = next(free_keys, "")
        if not spec.color:
            spec.color = PALETTE[(len(taken) + i) % len(PALETTE)]
    return specs


def labels_room(task_type: str, count: int) -> int | None:
    """How many more labels a project of `task_type` with `count` labels may take: None for no
    limit; a binary project has exactly one (accept / reject), so 0 once it has it. The settings
    page offers only as many new-label rows as this allows."""
    return max(0, 1 - count) if task_type == TaskType.BINARY else None


def labels_deletable(task_type: str, count: int) -> bool:
    """Whether a label may be deleted at all: a project keeps at least one (a binary one exactly
    one); whether that label is unused is `delete_label`'s other check."""
    return task_type != TaskType.BINARY and count > 1


def _check_label_count(task_type: str, count: int) -> None:
    if task_type == TaskType.BINARY and count != 1:
        raise ProjectRuleError(
            f"a binary project needs exactly one label (accept / reject), got {count}.", "labels"
        )
    if task_type != TaskType.BINARY and count < 1:
        raise ProjectRuleError("a project needs at least one label.", "labels")
