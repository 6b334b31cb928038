"""Server-rendered SVG line plots for the model pages (no JavaScript): PR and ROC curves, the
loss curve, overlaid curves of several versions; and the confusion table's cell shading."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#db2777", "#0d9488", "#4b5563"]
W, H, LEFT, RIGHT, TOP, BOTTOM = 360, 240, 44, 12, 12, 40


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def line_plot(series: dict[str, Sequence[Sequence[float]]], *, x_label: str, y_label: str,
              title: str, css_id: str = "", x_range: tuple[float, float] | None = (0.0, 1.0),
              y_range: tuple[float, float] | None = (0.0, 1.0), diagonal: bool = False,
              markers: Sequence[dict[str, Any]] = ()) -> SafeString:
    """One SVG with a polyline per series ({name: [(x, y), ...]}); each point is a circle with a
    <title> for hover. Ranges default to the unit square; None fits the data. `markers`:
    [{"x", "y", "text"}] drawn as red dots (e.g. the operating point at the threshold)."""
    pts = [p for s in series.values() for p in s]
    if not pts:
        return mark_safe("")
    xs = [float(p[0]) for p in pts]
    ys = [float(p[1]) for p in pts]
    x0, x1 = x_range or (min(xs), max(xs))
    y0, y1 = y_range or (min(0.0, min(ys)), max(ys))
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y1 = y0 + 1

    def sx(x: float) -> float:
        return round(LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT), 1)

    def sy(y: float) -> float:
        return round(TOP + (1 - (y - y0) / (y1 - y0)) * (H - TOP - BOTTOM), 1)

    out = [f'<svg class="plot-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
           f'height="{H}" role="img"{f" id={chr(34)}{escape(css_id)}{chr(34)}" if css_id else ""} '
           f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        yv = y0 + frac * (y1 - y0)
        xv = x0 + frac * (x1 - x0)
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{sy(yv)}" y2="{sy(yv)}" stroke="#eef2f7"/>'
                   f'<text x="{LEFT - 4}" y="{sy(yv) + 3}" font-size="10" text-anchor="end" fill="#6b7280">{_fmt(yv)}</text>'
                   f'<text x="{sx(xv)}" y="{H - BOTTOM + 13}" font-size="10" text-anchor="middle" fill="#6b7280">{_fmt(xv)}</text>')
    out.append(f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="#9ca3af"/>'
               f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="#9ca3af"/>'
               f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 8}" font-size="11" text-anchor="middle">{escape(x_label)}</text>'
               f'<text x="11" y="{(TOP + H - BOTTOM) / 2}" font-size="11" text-anchor="middle" '
               f'transform="rotate(-90 11 {(TOP + H - BOTTOM) / 2})">{escape(y_label)}</text>')
    if diagonal:
        out.append(f'<line x1="{sx(x0)}" y1="{sy(y0)}" x2="{sx(x1)}" y2="{sy(y1)}" stroke="#d1d5db" stroke-dasharray="4 3"/>')
    for i, (name, points) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        coords = [(sx(float(x)), sy(float(y))) for x, y in points]
        out.append(f'<polyline class="series" data-series="{escape(name)}" fill="none" stroke="{color}" '
                   f'stroke-width="2" points="{" ".join(f"{x},{y}" for x, y in coords)}"/>')
        for (x, y), (px, py) in zip(points, coords, strict=True):
            out.append(f'<circle class="pt" cx="{px}" cy="{py}" r="2" fill="{color}">'
                       f'<title>{escape(name)}: {x_label} {float(x):.3f}, {y_label} {float(y):.3f}</title></circle>')
    for m in markers:
        out.append(f'<circle class="marker" cx="{sx(m["x"])}" cy="{sy(m["y"])}" r="5" fill="#dc2626" '
                   f'stroke="#fff" stroke-width="1.5"><title>{escape(m.get("text", ""))}</title></circle>')
    out.append("</svg>")
    return mark_safe("".join(out))


def legend(names: Sequence[str]) -> list[dict[str, str]]:
    """[{"name", "color"}] in the order line_plot colours the series."""
    return [{"name": n, "color": PALETTE[i % len(PALETTE)]} for i, n in enumerate(names)]


def shade_class(count: int, maximum: int) -> str:
    """CSS class att-0..att-9 for a confusion cell (reuses the attention shades)."""
    if maximum <= 0 or count <= 0:
        return ""
    return f"att-{min(9, int(9 * count / maximum))}"
