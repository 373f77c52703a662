"""The analysis report: one self-contained HTML file, readable offline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape as e
from typing import Any, Protocol

import numpy as np

from vigil.checks.drift import DriftResult
from vigil.formats.statistics import FeatureStatistics, Statistics
from vigil.formats.violations import Violation
from vigil.io.readers import BadRecords
from vigil.profile.kll import KLLSketch
from vigil.report.anomalies import anomaly_section
from vigil.report.context import HEADER_CSS, ReportContext, report_header
from vigil.report.svg import gauge, grouped_bars, overlaid_histogram


class _Baseline(Protocol):
    @property
    def statistics(self) -> Statistics: ...


class ReportedAnalysis(Protocol):
    """What the report reads of an analysis (:class:`vigil.analysis.data_quality.Analysis`
    has all of it): the window's statistics, the baseline's, violations, drift, bad records."""

    @property
    def statistics(self) -> Statistics: ...
    @property
    def baseline(self) -> _Baseline: ...
    @property
    def violations(self) -> Sequence[Violation]: ...
    @property
    def drift(self) -> Mapping[str, DriftResult]: ...
    @property
    def drift_share(self) -> float: ...
    @property
    def dataset_drifted(self) -> bool: ...
    @property
    def bad_records(self) -> BadRecords: ...
    @property
    def item_count(self) -> int: ...

NUM_BINS = 20
MAX_CATEGORIES = 12


def _sketch(f: FeatureStatistics) -> KLLSketch | None:
    ns = f.numerical_statistics
    if ns is None or ns.distribution is None or ns.distribution.kll is None:
        return None
    sk = ns.distribution.kll.sketch
    return KLLSketch.from_data(sk.data, k=sk.parameters.k, c=sk.parameters.c)


def _numeric_chart(base: FeatureStatistics, window: FeatureStatistics) -> str | None:
    a, b = _sketch(base), _sketch(window)
    if a is None or b is None or a.n == 0 or b.n == 0:
        return None
    bs, ws = base.numerical_statistics, window.numerical_statistics
    if bs is None or ws is None:
        return None
    if bs.min is None or ws.min is None or bs.max is None or ws.max is None:
        return None
    lo, hi = min(bs.min, ws.min), max(bs.max, ws.max)
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, NUM_BINS + 1)

    def shares(s: KLLSketch) -> list[float]:
        cdf = np.asarray(s.cdf(edges), dtype=float)
        below = float(np.asarray(s.rank_exclusive(edges[0]))) / s.n
        cdf[0] = below
        return list(np.diff(cdf))

    return overlaid_histogram(list(edges), shares(a), shares(b))


def _categorical_chart(base: FeatureStatistics, window: FeatureStatistics) -> str | None:
    def counts(f: FeatureStatistics) -> dict[str, float]:
        s = f.string_statistics
        if s is None or s.distribution is None or s.distribution.categorical is None:
            return {}
        return {b.value: float(b.count) for b in s.distribution.categorical.buckets}

    cb, cw = counts(base), counts(window)
    if not cb and not cw:
        return None
    nb, nw = sum(cb.values()) or 1.0, sum(cw.values()) or 1.0
    keys = sorted(set(cb) | set(cw), key=lambda k: -(cb.get(k, 0) / nb + cw.get(k, 0) / nw))
    keys = keys[:MAX_CATEGORIES]
    return grouped_bars(keys, [cb.get(k, 0) / nb for k in keys], [cw.get(k, 0) / nw for k in keys])


def feature_rows(analysis: ReportedAnalysis) -> list[dict[str, Any]]:
    """One row per feature: types, counts, drift, violations and the overlaid chart."""
    base = {f.name: f for f in analysis.baseline.statistics.features}
    by_feature: dict[str, list[Any]] = {}
    for v in analysis.violations:
        by_feature.setdefault(v.feature_name or "", []).append(v)
    rows = []
    for wf in analysis.statistics.features:
        bf = base.get(wf.name)
        chart = None
        if bf is not None:
            numeric = bf.inferred_type in ("Integral", "Fractional")
            chart = _numeric_chart(bf, wf) if numeric else _categorical_chart(bf, wf)
        r = analysis.drift.get(wf.name)
        common = wf.common
        rows.append(
            {
                "name": wf.name,
                "base_type": bf.inferred_type if bf else "—",
                "type": wf.inferred_type,
                "present": common.num_present if common else 0,
                "missing": common.num_missing if common else 0,
                "drift": r,
                "gauge": gauge(r.value, r.threshold, r.kind) if r else None,
                "chart": chart,
                "violations": by_feature.get(wf.name, []),
            }
        )
    return rows


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _feature_row(r: dict[str, Any]) -> str:
    viols = "".join(
        f'<div class="viol">{e(v.constraint_check_type)}: {e(v.description)}</div>'
        for v in r["violations"]
    )
    d = r["drift"]
    if d is not None:
        verdict = "drift" if d.drifted else "no drift"
        op = ">" if d.kind == "distance" else "<"
        drift = (
            f"<code>{e(d.method)}</code> {d.value:.4g} {op} {d.threshold:g}? "
            f'<b class="{"bad" if d.drifted else "ok"}">{verdict}</b><br>{r["gauge"]}'
        )
    else:
        drift = "&mdash;"
    return (
        f'<tr id="feature-{e(r["name"])}"><td><b>{e(r["name"])}</b>{viols}</td>'
        f"<td>{e(r['base_type'])} &rarr; {e(r['type'])}</td>"
        f"<td>{r['present']} / {r['missing']}</td><td>{drift}</td>"
        f"<td>{r['chart'] or ''}</td></tr>"
    )


def render_report(analysis: ReportedAnalysis, context: ReportContext | None = None) -> str:
    """Render ``report.html`` for an analysis (plain string building: no template engine to
    import, which keeps a CLI run's start-up short); ``context`` names the endpoint, schedule,
    window and execution the report covers, in a header under the title."""
    a = analysis
    drifted = sum(1 for r in a.drift.values() if r.drifted)
    bad = a.bad_records

    def card(value: str, label: str, is_bad: bool) -> str:
        return f'<div class="card"><b class="{"bad" if is_bad else "ok"}">{value}</b>{label}</div>'

    missing = [v for v in a.violations if v.constraint_check_type == "missing_column_check"]
    parts = [
        _HEAD,
        "<h1>Vigil analysis report</h1>",
        report_header(context),
        f"<div>Window of {a.item_count} rows against a baseline of "
        f"{a.baseline.statistics.dataset.item_count} rows.</div>",
        '<div class="summary">',
        card(str(len(a.violations)), "violations", bool(a.violations)),
        card(f"{drifted} / {len(a.drift)}", "features drifted", bool(drifted)),
        card(f"{a.drift_share * 100:.0f}%", "dataset drift share", a.dataset_drifted),
        card(str(bad.count), "bad records skipped", bool(bad.count)),
        "</div>",
        '<div class="legend">Charts:<span style="background:#4c78a8"></span>baseline'
        '<span style="background:#f58518"></span>window</div>',
        "<h2>Features</h2><table><tr><th>feature</th><th>type (baseline &rarr; window)</th>"
        "<th>present / missing</th><th>drift</th><th>distributions</th></tr>",
        *(_feature_row(r) for r in feature_rows(a)),
        "</table>",
    ]
    if missing:
        items = "".join(f"<li>{e(v.feature_name or '')}</li>" for v in missing)
        parts.append(f"<h2>Missing columns</h2><ul>{items}</ul>")
    parts.extend(anomaly_section(getattr(a, "anomalies", None)))  # with an outlier model
    parts.append("<h2>Violations</h2>")
    if a.violations:
        parts.append(
            _table(
                ["feature", "check", "description"],
                [
                    [
                        e(v.feature_name or v.metric_name or ""),
                        f"<code>{e(v.constraint_check_type)}</code>",
                        e(v.description),
                    ]
                    for v in a.violations
                ],
            )
        )
    else:
        parts.append('<p class="ok">No violations.</p>')
    parts.append("<h2>Bad records</h2>")
    if bad.count:
        parts.append(f"<p>{bad.count} record(s) skipped. First examples:</p>")
        parts.append(
            _table(
                ["file", "line", "reason", "text"],
                [
                    [
                        e(x.source),
                        "" if x.line is None else str(x.line),
                        e(x.reason),
                        f"<code>{e(x.text)}</code>",
                    ]
                    for x in bad.examples
                ],
            )
        )
    else:
        parts.append('<p class="ok">None.</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Vigil analysis report</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin-top:28px}
.summary{display:flex;gap:14px;flex-wrap:wrap;margin:14px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:120px}
.card b{display:block;font-size:20px}
.bad{color:#c62828} .ok{color:#2e7d32}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #eee;padding:6px 8px;text-align:left;vertical-align:top;
font-size:13px}
th{background:#fafafa} .legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
code{font-size:12px} .viol{color:#c62828;font-size:12px;margin:2px 0}
""" + HEADER_CSS + """
</style></head>
<body>"""
