"""Server-side SVG of a learning curve: validation F1 (macro, and per label) against labels."""
from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from models_zoo.metric_names import is_one_label

PALETTE = ["#ef4444", "#3b82f6", "#22c55e", "#eab308", "#a855f7", "#ec4899", "#14b8a6"]
W, H, LEFT, BOTTOM, TOP, RIGHT = 640, 280, 48, 36, 12, 120


def _xy(n: float, f1: float, x_min: float, x_max: float) -> tuple[float, float]:
    span = (x_max - x_min) or 1.0
    x = LEFT + (n - x_min) / span * (W - LEFT - RIGHT)
    y = TOP + (1.0 - f1) * (H - TOP - BOTTOM)
    return round(x, 1), round(y, 1)


def curve_svg(series: dict[str, list[tuple[float, float]]], x_label: str = "labels",
              css_class: str = "learning-curve") -> SafeString:
    """`series`: {name: [(x, f1), ...]}; the first series is drawn thick (macro F1)."""
    xs = [x for points in series.values() for x, _ in points]
    if not xs:
        return mark_safe("")
    x_min, x_max = min(xs), max(xs)
    parts = [f'<svg class="{css_class}" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
             'role="img" xmlns="http://www.w3.org/2000/svg">',
             f'<title>Validation F1 against {escape(x_label)}</title>']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        _, y = _xy(x_min, tick, x_min, x_max)
        parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y}" y2="{y}" stroke="#e5e7eb"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end" font-size="11">{tick:.2f}</text>')
    for value in sorted({x_min, x_max}):
        x, _ = _xy(value, 0.0, x_min, x_max)
        parts.append(f'<text x="{x}" y="{H - BOTTOM + 16}" text-anchor="middle" font-size="11">{value:g}</text>')
    parts.append(f'<text x="{(W - RIGHT + LEFT) / 2}" y="{H - 4}" text-anchor="middle" '
                 f'font-size="12">{escape(x_label)}</text>')
    for i, (name, points) in enumerate(series.items()):
        color = "#111827" if i == 0 else PALETTE[(i - 1) % len(PALETTE)]
        width = 2.5 if i == 0 else 1.5
        coords = [_xy(x, f1, x_min, x_max) for x, f1 in points]
        path = " ".join(f"{x},{y}" for x, y in coords)
        parts.append(f'<polyline class="series" data-series="{escape(name)}" fill="none" '
                     f'stroke="{color}" stroke-width="{width}" points="{path}"/>')
        parts += [f'<circle cx="{x}" cy="{y}" r="3" fill="{color}"/>' for x, y in coords]
        legend_y = TOP + 14 + 16 * i
        parts.append(f'<rect x="{W - RIGHT + 12}" y="{legend_y - 9}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{W - RIGHT + 28}" y="{legend_y}" font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def learning_curve_svg(points: list[dict[str, Any]], labels: list[str],
                       task_type: str = "multilabel") -> SafeString:
    """The versions page's plot from `learning_curve.curve_points`: F1 macro, then each label's
    F1. With one label (models_zoo.metric_names.is_one_label) the stored `f1_macro` is that
    label's F1, so it is drawn once, as "F1 <label>", not also as a "macro"."""
    if is_one_label(task_type, labels):
        return curve_svg({f"F1 {labels[0]}": [(p["labels"], p["f1_macro"]) for p in points]})
    series: dict[str, list[tuple[float, float]]] = {
        "F1 macro": [(p["labels"], p["f1_macro"]) for p in points]
    }
    for label in labels:
        pts = [(p["labels"], p["per_label"][label]) for p in points
               if p["per_label"].get(label) is not None]
        if pts:
            series[f"F1 {label}"] = pts
    return curve_svg(series)
