"""Coordinates for the server-rendered SVG chart of the prevalence index: pure, no Django."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT = 960, 320
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 36


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    lines: dict[str, list[str]] = field(default_factory=dict)  # name -> polyline point strings
    band: str = ""  # polygon points of the interval band
    markers: list[dict] = field(default_factory=list)
    y_ticks: list[dict] = field(default_factory=list)
    x_ticks: list[dict] = field(default_factory=list)
    plot: dict = field(default_factory=dict)


def _segments(xs: Sequence[float], ys: Sequence[float | None], y) -> list[str]:
    """Polyline point strings, broken where a value is missing."""
    out, current = [], []
    for x, v in zip(xs, ys, strict=True):
        if v is None:
            if current:
                out.append(" ".join(current))
            current = []
            continue
        current.append(f"{x:.1f},{y(v):.1f}")
    if current:
        out.append(" ".join(current))
    return out


def build_chart(
    dates: Sequence[str],
    series: dict[str, Sequence[float | None]],
    band: tuple[Sequence[float | None], Sequence[float | None]] | None = None,
    markers: Sequence[int] = (),
    marker_series: str = "share",
) -> Chart:
    chart = Chart()
    n = len(dates)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    chart.plot = {"x": LEFT, "y": TOP, "w": inner_w, "h": inner_h, "bottom": TOP + inner_h}
    if n == 0:
        return chart
    values = [v for s in series.values() for v in s if v is not None]
    if band:
        values += [v for v in band[1] if v is not None]
    top = max(values, default=1.0) or 1.0
    top = min(1.0, top * 1.1) if top <= 0.9 else 1.0
    xs = [LEFT + (inner_w * i / (n - 1) if n > 1 else inner_w / 2) for i in range(n)]

    def y(v: float) -> float:
        return TOP + inner_h * (1 - v / top)

    for name, ys in series.items():
        chart.lines[name] = _segments(xs, list(ys), y)
    if band:
        lo, hi = band
        upper = [(x, h) for x, h in zip(xs, hi, strict=True) if h is not None]
        lower = [(x, v) for x, v in zip(xs, lo, strict=True) if v is not None]
        if upper and lower:
            pts = [f"{x:.1f},{y(v):.1f}" for x, v in upper] + [
                f"{x:.1f},{y(v):.1f}" for x, v in reversed(lower)
            ]
            chart.band = " ".join(pts)
    base = series.get(marker_series, [])
    for i in markers:
        if i < len(base) and base[i] is not None:
            chart.markers.append(
                {
                    "x": round(xs[i], 1),
                    "y": round(y(base[i]), 1),
                    "date": dates[i],
                    "value": base[i],
                }
            )
    for k in range(5):
        v = top * k / 4
        chart.y_ticks.append({"y": round(y(v), 1), "label": f"{v:.2f}"})
    step = max(1, (n - 1) // 6)
    for i in range(0, n, step):
        chart.x_ticks.append({"x": round(xs[i], 1), "label": dates[i]})
    return chart
