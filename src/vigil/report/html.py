"""The analysis report: one self-contained HTML file, readable offline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from vigil.formats.statistics import FeatureStatistics
from vigil.profile.kll import KLLSketch
from vigil.report.svg import gauge, grouped_bars, overlaid_histogram

if TYPE_CHECKING:
    from vigil.monitor.analysis import Analysis

NUM_BINS = 20
MAX_CATEGORIES = 12

_env = Environment(
    loader=PackageLoader("vigil.report", "templates"), autoescape=select_autoescape(["html"])
)


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
    lo = min(base.numerical_statistics.min, window.numerical_statistics.min)  # type: ignore[union-attr]
    hi = max(base.numerical_statistics.max, window.numerical_statistics.max)  # type: ignore[union-attr]
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


def feature_rows(analysis: Analysis) -> list[dict[str, Any]]:
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
                "gauge": Markup(gauge(r.value, r.threshold, r.kind)) if r else None,
                "chart": Markup(chart) if chart else None,
                "violations": by_feature.get(wf.name, []),
            }
        )
    return rows


def render_report(analysis: Analysis) -> str:
    """Render ``report.html`` for an analysis."""
    template = _env.get_template("report.html")
    missing = [v for v in analysis.violations if v.constraint_check_type == "missing_column_check"]
    return template.render(
        a=analysis,
        rows=feature_rows(analysis),
        missing=missing,
        drifted=sum(1 for r in analysis.drift.values() if r.drifted),
    )
