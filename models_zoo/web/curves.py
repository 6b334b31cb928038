"""Geometry of the validation-curve SVG on the version page (server-rendered, no JavaScript):
the objective against the threshold, the chosen threshold marked, the target as a line."""
from __future__ import annotations

from typing import Any

from models_zoo.thresholds import OBJECTIVE_TITLES

WIDTH, HEIGHT = 360, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 12, 32


def _x(t: float) -> float:
    return round(LEFT + t * (WIDTH - LEFT - RIGHT), 1)


def _y(v: float) -> float:
    return round(TOP + (1 - v) * (HEIGHT - TOP - BOTTOM), 1)


def curve_figure(label: str, pick: dict[str, Any], objective: str) -> dict[str, Any]:
    """Everything the `_threshold_curve.html` partial draws for one label's calibration record
    (`models_zoo.thresholds.ThresholdChoice.as_dict()`); undefined points break the line."""
    segments: list[list[tuple[float, float]]] = [[]]
    for t, v in pick.get("curve") or []:
        if v is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append((_x(t), _y(v)))
    polylines = [" ".join(f"{x},{y}" for x, y in seg) for seg in segments if seg]
    threshold = float(pick.get("threshold", 0.5))
    value = pick.get("value")
    target = pick.get("target")
    return {
        "label": label,
        "title": OBJECTIVE_TITLES.get(objective, objective),
        "width": WIDTH, "height": HEIGHT,
        "polylines": polylines,
        "points": [{"x": _x(t), "y": _y(v), "t": t, "v": v} for t, v in pick.get("curve") or [] if v is not None],
        "chosen_x": _x(threshold), "chosen_y": _y(value) if value is not None else None,
        "threshold": threshold, "value": value,
        "target_y": _y(float(target)) if target is not None else None, "target": target,
        "axis": {"x0": LEFT, "x1": WIDTH - RIGHT, "y0": TOP, "y1": HEIGHT - BOTTOM},
        "x_ticks": [{"x": _x(t), "text": f"{t:g}"} for t in (0.0, 0.25, 0.5, 0.75, 1.0)],
        "y_ticks": [{"y": _y(v), "text": f"{v:g}"} for v in (0.0, 0.5, 1.0)],
        "target_met": pick.get("target_met"), "note": pick.get("note", ""),
    }
