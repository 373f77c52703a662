"""Small inline-SVG charts: reports stay self-contained, offline and a few kilobytes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

BASE_COLOR = "#4c78a8"
WINDOW_COLOR = "#f58518"


def _fmt(x: float) -> str:
    if x == 0 or not math.isfinite(x):
        return str(x)
    if abs(x) >= 1e5 or abs(x) < 1e-3:
        return f"{x:.3g}"
    return f"{x:.4g}"


def overlaid_histogram(
    edges: Sequence[float],
    base: Sequence[float],
    window: Sequence[float],
    width: int = 420,
    height: int = 150,
) -> str:
    """Two distributions (shares per bin) as overlaid step areas over the same bins."""
    top = max([*base, *window, 1e-12])
    pad_l, pad_b = 34, 22
    w, h = width - pad_l - 22, height - pad_b - 8
    nb = len(base)

    def path(shares: Sequence[float]) -> str:
        pts = [f"M{pad_l},{8 + h}"]
        for i, s in enumerate(shares):
            y = 8 + h - h * s / top
            pts.append(f"L{pad_l + w * i / nb:.1f},{y:.1f}")
            pts.append(f"L{pad_l + w * (i + 1) / nb:.1f},{y:.1f}")
        pts.append(f"L{pad_l + w},{8 + h}Z")
        return " ".join(pts)

    labels = "".join(
        f'<text x="{pad_l + w * i / nb:.1f}" y="{height - 6}" font-size="9" '
        f'text-anchor="middle">{escape(_fmt(edges[i]))}</text>'
        for i in range(0, nb + 1, max(1, nb // 5))
    )
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f'<path d="{path(base)}" fill="{BASE_COLOR}" fill-opacity="0.45" stroke="{BASE_COLOR}"/>'
        f'<path d="{path(window)}" fill="{WINDOW_COLOR}" fill-opacity="0.45" '
        f'stroke="{WINDOW_COLOR}"/>'
        f'<line x1="{pad_l}" y1="{8 + h}" x2="{pad_l + w}" y2="{8 + h}" stroke="#333"/>'
        f'<text x="2" y="14" font-size="9">{top:.0%}</text>{labels}</svg>'
    )


def grouped_bars(
    labels: Sequence[str],
    base: Sequence[float],
    window: Sequence[float],
    width: int = 420,
    bar_h: int = 9,
) -> str:
    """Category shares of baseline and window as paired horizontal bars."""
    top = max([*base, *window, 1e-12])
    label_w = 110
    w = width - label_w - 40
    rows = []
    for i, (lab, b, c) in enumerate(zip(labels, base, window)):
        y = 4 + i * (2 * bar_h + 6)
        rows.append(
            f'<text x="{label_w - 4}" y="{y + bar_h + 3}" font-size="10" text-anchor="end">'
            f"{escape(lab[:18])}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w * b / top:.1f}" height="{bar_h}" '
            f'fill="{BASE_COLOR}"/>'
            f'<rect x="{label_w}" y="{y + bar_h}" width="{w * c / top:.1f}" height="{bar_h}" '
            f'fill="{WINDOW_COLOR}"/>'
            f'<text x="{label_w + w * max(b, c) / top + 3:.1f}" y="{y + bar_h + 3}" '
            f'font-size="9">{b:.0%}/{c:.0%}</text>'
        )
    height = 8 + len(labels) * (2 * bar_h + 6)
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
        + "".join(rows)
        + "</svg>"
    )


def gauge(value: float, threshold: float, kind: str, width: int = 200) -> str:
    """The drift figure against its threshold: a bar, a tick at the threshold."""
    if not math.isfinite(value):
        return '<svg width="10" height="10"></svg>'
    scale = max(1.0, value, threshold) if kind == "distance" else 1.0
    x = width * min(value, scale) / scale
    t = width * min(threshold, scale) / scale
    bad = value > threshold if kind == "distance" else value < threshold
    color = "#d62728" if bad else "#2ca02c"
    return (
        f'<svg width="{width + 4}" height="16" viewBox="0 0 {width + 4} 16" role="img">'
        f'<rect x="0" y="4" width="{width}" height="8" fill="#eee"/>'
        f'<rect x="0" y="4" width="{x:.1f}" height="8" fill="{color}"/>'
        f'<line x1="{t:.1f}" y1="0" x2="{t:.1f}" y2="16" stroke="#000" stroke-width="2"/></svg>'
    )


def paired_values(
    labels: Sequence[str],
    base: Sequence[float | None],
    window: Sequence[float | None],
    width: int = 460,
    bar_h: int = 8,
) -> str:
    """Signed values of baseline and window as paired horizontal bars around zero (bias
    metrics, SHAP values); a missing or infinite value draws no bar and is written out."""
    finite = [abs(v) for v in (*base, *window) if v is not None and math.isfinite(v)]
    top = max([*finite, 1e-12])
    label_w, value_w = 110, 120
    half = (width - label_w - value_w) / 2
    zero = label_w + half
    rows = []
    for i, (lab, b, c) in enumerate(zip(labels, base, window)):
        y = 4 + i * (2 * bar_h + 6)
        rows.append(
            f'<text x="{label_w - 4}" y="{y + bar_h + 3}" font-size="10" text-anchor="end">'
            f"{escape(lab[:18])}</text>"
        )
        for k, (v, color) in enumerate(((b, BASE_COLOR), (c, WINDOW_COLOR))):
            if v is None or not math.isfinite(v):
                continue
            w = half * abs(v) / top
            x = zero if v >= 0 else zero - w
            rows.append(
                f'<rect x="{x:.1f}" y="{y + k * bar_h}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{color}"/>'
            )
        text = " / ".join("n/a" if v is None else _fmt(v) for v in (b, c))
        rows.append(
            f'<text x="{width - value_w + 4}" y="{y + bar_h + 3}" font-size="9">'
            f"{escape(text)}</text>"
        )
    height = 8 + len(labels) * (2 * bar_h + 6)
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}" stroke="#999"/>'
        + "".join(rows)
        + "</svg>"
    )
