"""Parsing of the project setup pages' POST data into the project service's arguments.

Only the shape is handled here (a number box holding a number, a checkbox's "on"); every rule
(label names and keys, the retrain backend, overlap bounds) is the service's, so the pages and
the REST API refuse the same things with the same messages.
"""
from __future__ import annotations

from typing import Any

from django.http import QueryDict

from annotator.models import Normalization, Project, TaskType
from annotator.services.project_settings import backends_for_task
from annotator.services.project_setup import LabelEdit
from annotator.services.projects import ProjectRuleError
from annotator.services.queue_strategies import STRATEGIES
from config import hooks
from config.inputs import InvalidInput, parse_int

BLANK_LABEL_ROWS = 6


def _int(post: QueryDict, name: str) -> int:
    raw = post.get(name, "").strip()
    try:
        return parse_int(raw, name)
    except InvalidInput:
        raise ProjectRuleError(f"{name} must be a whole number, got {raw!r}.", name) from None


def parse_settings(post: QueryDict) -> dict[str, Any]:
    """The settings boxes of the new and edit pages (those present in the POST)."""
    out: dict[str, Any] = {}
    for name in ("description", "guidelines", "normalization", "queue_strategy", "queue_label",
                 "retrain_backend"):
        if name in post:
            out[name] = post.get(name, "").replace("\r\n", "\n") if name in ("description", "guidelines") else post.get(name, "").strip()
    if "overlap" in post:
        out["overlap"] = _int(post, "overlap")
    if "retrain_every" in post:
        out["retrain_every"] = post.get("retrain_every", "")  # the service parses it
    # Checkboxes: present in the form (a hidden marker) but unticked means False.
    if "has_checkboxes" in post:
        out["auto_promote"] = post.get("auto_promote") == "on"
        out["allow_overlapping_spans"] = post.get("allow_overlapping_spans") == "on"
    return out


def parse_label_rows(post: QueryDict) -> list[LabelEdit]:
    """label-<i>-id / -name / -shortcut / -color / -delete rows, in page order."""
    rows: list[LabelEdit] = []
    indexes = sorted({int(k.split("-")[1]) for k in post if k.startswith("label-") and k.split("-")[1].isdigit()})
    for i in indexes:
        raw_id = post.get(f"label-{i}-id", "").strip()
        try:
            label_id = parse_int(raw_id, f"label-{i}-id", default=None, lo=1)
        except InvalidInput:
            raise ProjectRuleError(f"{raw_id!r} is not a label id.", "labels") from None
        rows.append(LabelEdit(
            label_id=label_id,
            name=post.get(f"label-{i}-name", "").strip(),
            shortcut=post.get(f"label-{i}-shortcut", "").strip(),
            color=post.get(f"label-{i}-color", "").strip(),
            delete=post.get(f"label-{i}-delete") == "on",
        ))
    return rows


def label_specs(rows: list[LabelEdit]) -> list[dict[str, str]]:
    """New-project rows with a name, as the service's label specs."""
    return [{"name": r.name, "shortcut": r.shortcut, "color": r.color} for r in rows if r.name]


def choices(task_type: str | None) -> dict[str, Any]:
    """The select boxes' options."""
    return {
        "task_types": TaskType.choices,
        "normalizations": Normalization.choices,
        "strategies": [(cls.name, cls.description) for cls in STRATEGIES.values()],
        # The edit page offers the backends of the project's task type; the new page offers
        # all of them with what they train (the service refuses a mismatch).
        "backends": [(n, "") for n in backends_for_task(task_type)] if task_type else _all_backends(),
    }


def _all_backends() -> list[tuple[str, str]]:
    catalog = hooks.call("backend_catalog")
    return [(b["name"], ", ".join(b["task_types"])) for b in catalog if b["task_types"]]


def settings_values(project: Project | None, post: QueryDict | None = None) -> dict[str, Any]:
    """What the settings boxes show: the POST on a refused submit, else the project's values
    (or a new project's defaults)."""
    defaults = {
        "name": "", "task_type": TaskType.MULTILABEL, "description": "", "guidelines": "",
        "normalization": Normalization.STRIP, "overlap": 1, "allow_overlapping_spans": False,
        "queue_strategy": "random", "queue_label": "", "retrain_every": "",
        "retrain_backend": "", "auto_promote": False,
    }
    if project is not None:
        defaults.update({k: getattr(project, k) for k in defaults})
        defaults["retrain_every"] = project.retrain_every or ""
    if post is not None:
        for key in defaults:
            if key in ("auto_promote", "allow_overlapping_spans"):
                defaults[key] = post.get(key) == "on"
            elif key in post:
                defaults[key] = post.get(key)
    return defaults
