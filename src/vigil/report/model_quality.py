"""``report.html`` of a model-quality run, and the figures the dashboard shows of one.

From SageMaker's model-quality ``statistics.json`` and ``constraints.json`` (and the run's
violations): every scalar metric against its constraint (operator and threshold, with a bar
and a tick at the threshold), the confusion matrix (an HTML table shaded on a sequential blue
scale, a hover per cell), and for a binary classifier the ROC and precision-recall curves as
inline SVG drawn server-side (the window's in blue, the baseline's, when known, in orange,
dashed). The curves are the statistics' own points (:mod:`vigil.checks.model_quality.curves`,
scikit-learn's ``roc_curve`` and ``precision_recall_curve``), mapped linearly onto the plot
(:data:`CURVE`): :meth:`Plot.data_of` maps a drawn point back.

>>> CURVE.pixel_of(0.0, 0.0), CURVE.pixel_of(1.0, 1.0)
((46.0, 276.0), (306.0, 26.0))
>>> CURVE.data_of(*CURVE.pixel_of(0.25, 0.75))
(0.25, 0.75)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape as e

from vigil.formats.model_quality import (
    STRUCTURED_METRICS,
    MetricValue,
    ModelQualityConstraints,
    ModelQualityStatistics,
    PrecisionRecallCurve,
    RocCurve,
    as_float,
)
from vigil.formats.violations import Violation
from vigil.io.readers import BadRecords
from vigil.report.context import ReportContext, report_header
from vigil.report.html import _HEAD

__all__ = [
    "CURVE",
    "Plot",
    "confusion_table",
    "curve_svg",
    "metric_rows",
    "model_quality_figures",
    "render_model_quality_report",
]

WINDOW_COLOR = "#0072B2"  # Okabe-Ito blue
BASELINE_COLOR = "#E69F00"  # Okabe-Ito orange
#: a sequential blue scale (ColorBrewer Blues, colour-blind safe), light to dark
BLUES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5",
         "#08519c", "#08306b")
_OPS = {
    "LessThanThreshold": ("<", lambda v, t: v < t),
    "GreaterThanThreshold": (">", lambda v, t: v > t),
    "LessThanOrEqualToThreshold": ("<=", lambda v, t: v <= t),
    "GreaterThanOrEqualToThreshold": (">=", lambda v, t: v >= t),
}


@dataclass(frozen=True)
class Plot:
    """The geometry of a curve plot: the SVG's size and the plot area's margins; both axes
    run from 0 to 1."""

    width: int = 320
    height: int = 314
    left: int = 46
    right: int = 14
    top: int = 26
    bottom: int = 38

    @property
    def inner_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def inner_height(self) -> int:
        return self.height - self.top - self.bottom

    def pixel_of(self, x: float, y: float) -> tuple[float, float]:
        """The SVG coordinates of the data point ``(x, y)`` (rounded to 0.01 px)."""
        return (round(self.left + self.inner_width * x, 2),
                round(self.top + self.inner_height * (1.0 - y), 2))

    def data_of(self, px: float, py: float) -> tuple[float, float]:
        """The data point drawn at SVG coordinates ``(px, py)``."""
        return (round((px - self.left) / self.inner_width, 6),
                round(1.0 - (py - self.top) / self.inner_height, 6))


CURVE = Plot()


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else str(x)
    return f"{x:.4g}"


def _polyline(xs: Sequence[float], ys: Sequence[float], color: str, css: str,
              dashed: bool = False) -> str:
    points = " ".join(
        "{:.2f},{:.2f}".format(*CURVE.pixel_of(x, y))
        for x, y in zip(xs, ys)
        if math.isfinite(x) and math.isfinite(y)
    )
    dash = ' stroke-dasharray="5 3"' if dashed else ""
    return (f'<polyline class="{css}" points="{points}" fill="none" stroke="{color}" '
            f'stroke-width="2"{dash}/>')


def curve_svg(
    curve_id: str,
    title: str,
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    x_label: str,
    y_label: str,
    baseline: tuple[Sequence[float], Sequence[float]] | None = None,
    diagonal: bool = False,
    note: str = "",
) -> str:
    """A curve over the unit square as inline SVG: axes with ticks and labels, the window's
    curve (``polyline.window``), the baseline's (``polyline.baseline``), a chance diagonal."""
    g = CURVE
    x0, y0 = g.pixel_of(0, 0)
    x1, y1 = g.pixel_of(1, 1)
    parts = [
        f'<svg class="curve" id="{e(curve_id)}" width="{g.width}" height="{g.height}" '
        f'viewBox="0 0 {g.width} {g.height}" role="img" aria-label="{e(title)}">',
        f"<title>{e(title)}{(': ' + e(note)) if note else ''}</title>",
        f'<text x="{(x0 + x1) / 2}" y="16" font-size="13" font-weight="600" '
        f'text-anchor="middle">{e(title)}</text>',
        f'<rect x="{x0}" y="{y1}" width="{g.inner_width}" height="{g.inner_height}" '
        'fill="#fff" stroke="#999"/>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        tx, _ = g.pixel_of(tick, 0)
        _, ty = g.pixel_of(0, tick)
        parts.append(f'<line x1="{tx}" y1="{y1}" x2="{tx}" y2="{y0}" stroke="#eee"/>'
                     f'<line x1="{x0}" y1="{ty}" x2="{x1}" y2="{ty}" stroke="#eee"/>'
                     f'<text x="{tx}" y="{y0 + 14}" font-size="10" text-anchor="middle">'
                     f"{tick:g}</text>"
                     f'<text x="{x0 - 4}" y="{ty + 3}" font-size="10" text-anchor="end">'
                     f"{tick:g}</text>")
    parts.append(f'<text x="{(x0 + x1) / 2}" y="{g.height - 6}" font-size="11" '
                 f'text-anchor="middle">{e(x_label)}</text>')
    parts.append(f'<text x="12" y="{(y0 + y1) / 2}" font-size="11" text-anchor="middle" '
                 f'transform="rotate(-90 12 {(y0 + y1) / 2})">{e(y_label)}</text>')
    if diagonal:
        parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="#999" '
                     'stroke-dasharray="2 3"><title>chance</title></line>')
    if baseline is not None and len(baseline[0]):
        parts.append(_polyline(baseline[0], baseline[1], BASELINE_COLOR, "baseline", dashed=True))
    if len(xs):
        parts.append(_polyline(xs, ys, WINDOW_COLOR, "window"))
    else:
        parts.append(f'<text x="{(x0 + x1) / 2}" y="{(y0 + y1) / 2}" font-size="12" '
                     'text-anchor="middle">undefined: one class only</text>')
    parts.append("</svg>")
    return "".join(parts)


def _curves_of(stats: ModelQualityStatistics | None) -> tuple[RocCurve | None,
                                                              PrecisionRecallCurve | None]:
    if stats is None:
        return None, None
    roc = stats.metrics.get("receiver_operating_characteristic_curve")
    pr = stats.metrics.get("precision_recall_curve")
    return (roc if isinstance(roc, RocCurve) else None,
            pr if isinstance(pr, PrecisionRecallCurve) else None)


def roc_pr_svgs(
    statistics: ModelQualityStatistics, baseline: ModelQualityStatistics | None = None
) -> list[str]:
    """The ROC and PR curves of a binary classifier's statistics (none for another problem
    type), with the baseline's curves when given."""
    roc, pr = _curves_of(statistics)
    base_roc, base_pr = _curves_of(baseline)
    out = []
    auc = statistics.metric_values().get("auc", math.nan)
    if roc is not None:
        out.append(curve_svg(
            "roc-curve", f"ROC curve (AUC {_num(auc)})", roc.false_positive_rates,
            roc.true_positive_rates, x_label="false positive rate",
            y_label="true positive rate", diagonal=True,
            baseline=None if base_roc is None else (base_roc.false_positive_rates,
                                                    base_roc.true_positive_rates),
            note=f"{len(roc.false_positive_rates)} points",
        ))
    if pr is not None:
        out.append(curve_svg(
            "pr-curve", "Precision-recall curve", pr.recalls, pr.precisions,
            x_label="recall", y_label="precision",
            baseline=None if base_pr is None else (base_pr.recalls, base_pr.precisions),
            note=f"{len(pr.recalls)} points",
        ))
    return out


def _shade(share: float) -> tuple[str, str]:
    """The background and text colours of a cell holding ``share`` of the largest count."""
    i = min(len(BLUES) - 1, max(0, round(share * (len(BLUES) - 1))))
    return BLUES[i], "#fff" if i >= 5 else "#111"


def confusion_table(statistics: ModelQualityStatistics) -> str:
    """The confusion matrix (actual label by row, predicted by column) as an HTML table, each
    cell shaded by its count and carrying ``data-actual``, ``data-predicted`` and a hover;
    empty for regression."""
    cm = statistics.metrics.get("confusion_matrix")
    if not isinstance(cm, dict) or not cm:
        return ""
    labels = sorted(set(cm) | {p for row in cm.values() for p in row})
    top = max([c for row in cm.values() for c in row.values()] + [1])
    total_all = sum(c for row in cm.values() for c in row.values())
    head = "".join(f'<th scope="col">{e(p)}</th>' for p in labels)
    rows = []
    for a in labels:
        total = sum(cm.get(a, {}).values())
        cells = []
        for p in labels:
            count = int(cm.get(a, {}).get(p, 0))
            bg, fg = _shade(count / top)
            share = f"{count / total:.0%} of actual {a}" if total else "no actual " + a
            cells.append(
                f'<td data-actual="{e(a)}" data-predicted="{e(p)}" '
                f'style="background:{bg};color:{fg}" '
                f'title="actual {e(a)}, predicted {e(p)}: {count} ({e(share)})">{count}</td>'
            )
        rows.append(f'<tr><th scope="row">{e(a)}</th>{"".join(cells)}</tr>')
    return (
        '<table class="confusion" id="confusion-matrix"><caption>Confusion matrix</caption>'
        f'<tr><th scope="col">actual \\ predicted</th>{head}</tr>{"".join(rows)}</table>'
        f'<p class="muted">{total_all} records; rows: the ground truth, columns: the model\'s '
        "prediction</p>"
    )


@dataclass(frozen=True)
class MetricRow:
    """One scalar metric against its constraint."""

    name: str
    value: float
    standard_deviation: float
    operator: str | None  # SageMaker's comparison operator, None when unconstrained
    threshold: float | None
    violated: bool

    @property
    def symbol(self) -> str:
        """The operator as a symbol (``<``): a violation is ``value <symbol> threshold``."""
        return _OPS[self.operator][0] if self.operator in _OPS else ""


def metric_rows(
    statistics: ModelQualityStatistics,
    constraints: ModelQualityConstraints | None,
    violations: Sequence[Violation] = (),
    extra: Mapping[str, float] | None = None,
) -> list[MetricRow]:
    """Every scalar metric (and the ``extra`` figures, such as Vigil's conditional entropy)
    with its constraint, if any, and whether the run's violations name it; constrained ones
    first."""
    fired = {v.metric_name for v in violations}
    bounds = dict(constraints.constraints) if constraints is not None else {}
    rows = []
    entries: dict[str, tuple[float, float]] = {
        k: (as_float(v.value), as_float(v.standard_deviation))
        for k, v in statistics.metrics.items()
        if k not in STRUCTURED_METRICS and isinstance(v, MetricValue)
    }
    for k, v in (extra or {}).items():
        entries.setdefault(k, (float(v), math.nan))
    for name, (value, std) in entries.items():
        c = bounds.get(name)
        threshold = None if c is None else as_float(c.threshold)
        rows.append(MetricRow(name, value, std, None if c is None else c.comparison_operator,
                              threshold, name in fired))
    rows.sort(key=lambda r: (r.operator is None, not r.violated))
    return rows


def _bar(row: MetricRow) -> str:
    """The value as a bar with a tick at the threshold (scale 0..1, or to the larger figure)."""
    values = [abs(v) for v in (row.value, row.threshold) if v is not None and math.isfinite(v)]
    if not values:
        return ""
    scale = max(1.0, *values) * (1.0 if max(values) <= 1.0 else 1.15)
    width = 160
    x = width * min(abs(row.value), scale) / scale if math.isfinite(row.value) else 0
    color = "#D55E00" if row.violated else WINDOW_COLOR
    tick = ""
    if row.threshold is not None and math.isfinite(row.threshold):
        t = width * min(abs(row.threshold), scale) / scale
        tick = (f'<line x1="{t:.1f}" y1="0" x2="{t:.1f}" y2="16" stroke="#000" '
                f'stroke-width="2"><title>threshold {_num(row.threshold)}</title></line>')
    return (f'<svg width="{width + 4}" height="16" viewBox="0 0 {width + 4} 16" role="img">'
            f'<rect x="0" y="4" width="{width}" height="8" fill="#eee"/>'
            f'<rect x="0" y="4" width="{x:.1f}" height="8" fill="{color}"/>{tick}</svg>')


def metrics_table(rows: Sequence[MetricRow]) -> str:
    """The metrics as an HTML table: value, deviation, constraint, verdict, bar."""
    body = []
    for r in rows:
        if r.operator is None:
            rule, verdict = "&mdash;", '<span class="muted">not constrained</span>'
        else:
            rule = (f"violated when {e(r.symbol)} {_num(r.threshold or math.nan)} "
                    f"<code>{e(r.operator)}</code>")
            verdict = ('<b class="bad">violated</b>' if r.violated else '<b class="ok">ok</b>')
        body.append(
            f'<tr data-metric="{e(r.name)}"{" class=violated" if r.violated else ""}>'
            f"<td><code>{e(r.name)}</code></td><td>{_num(r.value)}</td>"
            f"<td>{_num(r.standard_deviation)}</td><td>{rule}</td><td>{verdict}</td>"
            f"<td>{_bar(r)}</td></tr>"
        )
    return (
        '<table class="metrics" id="mq-metrics"><tr><th>metric</th><th>value</th>'
        "<th>std. deviation</th><th>constraint</th><th>verdict</th><th>against the threshold"
        f'</th></tr>{"".join(body)}</table>'
    )


def model_quality_figures(
    statistics: ModelQualityStatistics,
    constraints: ModelQualityConstraints | None,
    violations: Sequence[Violation] = (),
    *,
    baseline: ModelQualityStatistics | None = None,
    extra: Mapping[str, float] | None = None,
) -> str:
    """The figures of a run as HTML (no page around them): the confusion matrix, the ROC and
    PR curves, the metrics against their constraints; the report and the dashboard's
    execution page both show this."""
    parts = []
    matrix = confusion_table(statistics)
    curves = roc_pr_svgs(statistics, baseline)
    if matrix or curves:
        parts.append('<div class="mq-figures">')
        if matrix:
            parts.append(f'<div class="mq-figure">{matrix}</div>')
        for svg in curves:
            parts.append(f'<div class="mq-figure">{svg}</div>')
        parts.append("</div>")
        if curves:
            parts.append(
                '<div class="legend">Curves:<span style="background:#0072B2"></span>window'
                + ('<span style="background:#E69F00"></span>baseline (dashed)'
                   if baseline is not None else "")
                + "</div>"
            )
    parts.append("<h2>Metrics against their constraints</h2>")
    parts.append(metrics_table(metric_rows(statistics, constraints, violations, extra)))
    return "\n".join(parts)


_MQ_CSS = (
    "<style>.mq-figures{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}"
    ".mq-figure{max-width:340px}.mq-figure p{font-size:12px}"
    ".confusion{width:auto;min-width:240px;border-collapse:collapse}"
    ".confusion caption{font-weight:600;text-align:left;padding:4px 0}.confusion td{min-width:64px;"
    "text-align:center;font-size:15px;border:1px solid #fff}.confusion th{text-align:center}"
    ".muted{color:#666}</style>"
)


def render_model_quality_report(
    statistics: ModelQualityStatistics,
    constraints: ModelQualityConstraints | None,
    violations: Sequence[Violation],
    *,
    context: ReportContext | None = None,
    baseline: ModelQualityStatistics | None = None,
    extra: Mapping[str, float] | None = None,
    bad_records: BadRecords | None = None,
    skipped: Mapping[str, int] | None = None,
) -> str:
    """``report.html`` of a model-quality run: the header naming what it covers, a summary,
    the figures of :func:`model_quality_figures`, the violations, the rows skipped."""
    title = "Vigil model-quality report"

    def card(value: str, label: str, is_bad: bool) -> str:
        return f'<div class="card"><b class="{"bad" if is_bad else "ok"}">{value}</b>{label}</div>'

    bad = bad_records or BadRecords()
    skipped_total = sum((skipped or {}).values())
    parts = [
        _HEAD.replace("Vigil analysis report", title).replace("</head>", _MQ_CSS + "</head>"),
        f"<h1>{title}</h1>",
        report_header(context),
        f"<div>{e(statistics.problem_type)}: {statistics.dataset.item_count} records with "
        "ground truth evaluated.</div>",
        '<div class="summary">',
        card(str(len(violations)), "violations", bool(violations)),
        card(str(statistics.dataset.item_count), "records evaluated", False),
        card(str(bad.count + skipped_total), "records skipped", bool(bad.count + skipped_total)),
        "</div>",
        model_quality_figures(statistics, constraints, violations, baseline=baseline,
                              extra=extra),
        "<h2>Violations</h2>",
    ]
    if violations:
        parts.append("<table><tr><th>metric</th><th>check</th><th>description</th></tr>" + "".join(
            f"<tr><td>{e(v.metric_name or '')}</td><td><code>{e(v.constraint_check_type)}"
            f"</code></td><td>{e(v.description)}</td></tr>" for v in violations
        ) + "</table>")
    else:
        parts.append('<p class="ok">No violations.</p>')
    parts.append("<h2>Records skipped</h2>")
    if skipped_total:
        parts.append("<ul>" + "".join(f"<li>{n} {e(reason)}</li>"
                                      for reason, n in (skipped or {}).items()) + "</ul>")
    if bad.count:
        parts.append(f"<p>{bad.count} unreadable record(s). First examples:</p>")
        parts.append("<table><tr><th>file</th><th>line</th><th>reason</th><th>text</th></tr>"
                     + "".join(f"<tr><td>{e(x.source)}</td><td>{'' if x.line is None else x.line}"
                               f"</td><td>{e(x.reason)}</td><td><code>{e(x.text)}</code></td>"
                               "</tr>" for x in bad.examples) + "</table>")
    if not skipped_total and not bad.count:
        parts.append('<p class="ok">None.</p>')
    parts.append("</body></html>")
    return "\n".join(parts)
