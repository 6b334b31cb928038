"""Server-rendered SVG for the mining pages (no JavaScript, no CDN): the S_an histogram with mu,
the sigma bands and the mined region, and the negatives experiment's bar chart."""
from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from annotator.mining.algorithm import band_limits

BAND_FILL = {1: "#bbf7d0", 2: "#bfdbfe", 3: "#fde68a"}  # seed 003 Figure 6: green, blue, yellow


def histogram_svg(histogram: dict[str, Any], mu: float | None, sigma: float | None, band: int,
                  tails: str, width: int = 720, height: int = 240) -> str:
    """Bars of the S_an histogram; dashed lines at mu and mu +- k sigma; the picked band shaded."""
    edges: Sequence[float] = histogram.get("edges") or []
    counts: Sequence[int] = histogram.get("counts") or []
    if not counts or mu is None or not sigma:
        return '<p class="muted">No histogram yet.</p>'
    left, right, top, bottom = 48, 12, 12, 34
    lo = min(edges[0], mu - 3.2 * sigma)
    hi = max(edges[-1], mu + 3.2 * sigma)
    span = hi - lo or 1.0
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(counts) or 1

    def x(value: float) -> float:
        return left + (value - lo) / span * plot_w

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="histogram" role="img" '
             f'viewBox="0 0 {width} {height}" width="100%" style="max-width: {width}px" '
             f'aria-label="S_an histogram, mu {mu:.3f}, sigma {sigma:.3f}, band {band} shaded">']
    for a, b in band_limits(mu, sigma, band, tails):
        parts.append(f'<rect class="picked" x="{x(a):.1f}" y="{top}" width="{x(b) - x(a):.1f}" '
                     f'height="{plot_h}" fill="{BAND_FILL[band]}" opacity="0.8"><title>band {band}: '
                     f'{a:.3f} to {b:.3f}</title></rect>')
    for i, count in enumerate(counts):
        x0, x1 = x(edges[i]), x(edges[i + 1])
        h = count / peak * plot_h
        parts.append(f'<rect class="bin" x="{x0:.1f}" y="{top + plot_h - h:.1f}" width="{max(x1 - x0 - 1, 1):.1f}" '
                     f'height="{h:.1f}" fill="#6b7280"><title>{edges[i]:.3f} to {edges[i + 1]:.3f}: {count}</title></rect>')
    for k in range(-3, 4):
        value = mu + k * sigma
        label = "mu" if k == 0 else f"{k:+d}σ"
        style = 'stroke="#111827" stroke-width="1.5"' if k == 0 else 'stroke="#9ca3af" stroke-dasharray="4 3"'
        parts.append(f'<line x1="{x(value):.1f}" y1="{top}" x2="{x(value):.1f}" y2="{top + plot_h}" {style}/>')
        parts.append(f'<text x="{x(value):.1f}" y="{height - 18}" font-size="11" text-anchor="middle">{label}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#111827"/>')
    parts.append(f'<text x="{left}" y="{height - 4}" font-size="11">{lo:.2f}</text>')
    parts.append(f'<text x="{width - right}" y="{height - 4}" font-size="11" text-anchor="end">{hi:.2f}  S_an</text>')
    parts.append(f'<text x="{left - 6}" y="{top + 10}" font-size="11" text-anchor="end">{peak}</text>')
    parts.append("</svg>")
    return "".join(parts)


SETTING_NAMES = {"random": "random", "1sigma": "1σ", "2sigma": "2σ", "3sigma": "3σ"}
METRIC_FILL = {"f1": "#2563eb", "precision": "#16a34a", "recall": "#ea580c"}


def experiment_svg(summary: Sequence[dict[str, Any]], width: int = 720, height: int = 260) -> str:
    """Grouped bars (F1, precision, recall) per setting, with a +-1 std whisker."""
    rows = [r for r in summary if r.get("f1_mean") is not None]
    if not rows:
        return '<p class="muted">No results yet.</p>'
    left, right, top, bottom = 40, 12, 24, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    group_w = plot_w / len(rows)
    bar_w = group_w / 4

    def y(value: float) -> float:
        return top + plot_h - max(0.0, min(1.0, value)) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="experiment-plot" role="img" '
             f'viewBox="0 0 {width} {height}" width="100%" style="max-width: {width}px" '
             f'aria-label="F1, precision and recall per negatives setting">']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" font-size="10" text-anchor="end">{tick:.2f}</text>')
    for gi, row in enumerate(rows):
        gx = left + gi * group_w + bar_w / 2
        for mi, metric in enumerate(("f1", "precision", "recall")):
            mean, std = row[f"{metric}_mean"], row[f"{metric}_std"] or 0.0
            bx = gx + mi * bar_w
            parts.append(f'<rect x="{bx:.1f}" y="{y(mean):.1f}" width="{bar_w - 2:.1f}" height="{top + plot_h - y(mean):.1f}" '
                         f'fill="{METRIC_FILL[metric]}"><title>{escape(row["setting"])} {metric} {mean:.3f} ± {std:.3f}</title></rect>')
            cx = bx + (bar_w - 2) / 2
            parts.append(f'<line x1="{cx:.1f}" y1="{y(mean + std):.1f}" x2="{cx:.1f}" y2="{y(mean - std):.1f}" stroke="#111827"/>')
        name = SETTING_NAMES.get(row["setting"], row["setting"])
        parts.append(f'<text x="{gx + 1.5 * bar_w:.1f}" y="{height - 10}" font-size="12" text-anchor="middle">{escape(name)}</text>')
    for mi, metric in enumerate(("f1", "precision", "recall")):
        parts.append(f'<rect x="{left + mi * 90}" y="4" width="10" height="10" fill="{METRIC_FILL[metric]}"/>'
                     f'<text x="{left + mi * 90 + 14}" y="13" font-size="11">{metric}</text>')
    parts.append("</svg>")
    return "".join(parts)
