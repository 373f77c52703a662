"""``report.html`` of a bias or explainability execution, from Clarify's documents.

Both read the window's ``analysis.json`` document, the baseline's, and the violations list of
``constraint_violations.json`` (plain mappings, as the files hold them), so a report can be
rebuilt from the files alone. Plots are inline SVG (:mod:`vigil.report.svg`): baseline in blue,
window in orange.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape as e
from typing import Any

from vigil.report.context import ReportContext, report_header
from vigil.report.html import _HEAD
from vigil.report.svg import paired_values

__all__ = ["render_bias_report", "render_explainability_report"]

_STAGES = (
    ("pre_training_bias_metrics", "Pre-training bias"),
    ("post_training_bias_metrics", "Post-training bias"),
)
_LEGEND = (
    '<div class="legend">Charts:<span style="background:#4c78a8"></span>baseline'
    '<span style="background:#f58518"></span>window</div>'
)


def _number(value: Any) -> float | None:
    if isinstance(value, str):
        return {"Infinity": math.inf, "-Infinity": -math.inf}.get(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _show(value: Any) -> str:
    number = _number(value)
    if number is None:
        return "null"
    return str(number) if math.isinf(number) else f"{number:.6g}"


def _card(value: str, label: str, is_bad: bool) -> str:
    return f'<div class="card"><b class="{"bad" if is_bad else "ok"}">{value}</b>{label}</div>'


def _metrics(section: Mapping[str, Any] | None) -> dict[tuple[str, str], dict[str, Any]]:
    """(facet, value) -> {metric name: metric entry} of one stage's section."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for facet, entries in ((section or {}).get("facets") or {}).items():
        for entry in entries or []:
            key = (str(facet), str(entry.get("value_or_threshold", "")))
            out[key] = {str(m.get("name")): m for m in entry.get("metrics") or []}
    return out


def render_bias_report(
    analysis: Mapping[str, Any],
    baseline: Mapping[str, Any] | None,
    violations: Sequence[Mapping[str, Any]],
    *,
    records: int,
    context: ReportContext | None = None,
) -> str:
    """``report.html`` of a bias-drift execution over ``records`` records."""
    flagged = {
        (str(v.get("facet")), str(v.get("facet_value")), str(v.get("metric_name")))
        for v in violations
    }
    parts = [
        _HEAD.replace("Vigil analysis report", "Vigil bias report"),
        "<h1>Vigil bias report</h1>",
        report_header(context),
        f"<div>Window of {records} records with ground truth.</div>",
        '<div class="summary">',
        _card(str(len(violations)), "bias metrics worse than the baseline", bool(violations)),
        "</div>",
        _LEGEND,
    ]
    for key, title in _STAGES:
        section = analysis.get(key)
        if not isinstance(section, Mapping):
            continue
        base = _metrics(baseline.get(key) if baseline else None)
        parts.append(
            f"<h2>{title}</h2><div>Label <code>{e(str(section.get('label', '')))}</code>, "
            f"positive <code>{e(str(section.get('label_value_or_threshold', '')))}</code></div>"
        )
        for (facet, value), metrics in _metrics(section).items():
            names = sorted(metrics)
            before = base.get((facet, value), {})
            chart = paired_values(
                names,
                [_number(before.get(n, {}).get("value")) for n in names],
                [_number(metrics[n].get("value")) for n in names],
            )
            rows = []
            for n in names:
                m = metrics[n]
                bad = (facet, value, n) in flagged
                verdict = '<b class="bad">worse</b>' if bad else ""
                error = f'<div class="viol">{e(str(m["error"]))}</div>' if m.get("error") else ""
                rows.append(
                    f"<tr><td><b>{e(n)}</b>{error}</td><td>{e(str(m.get('description', '')))}"
                    f"</td><td>{_show(before.get(n, {}).get('value'))}</td>"
                    f"<td>{_show(m.get('value'))}</td><td>{verdict}</td></tr>"
                )
            parts.append(
                f"<h3>Facet <code>{e(facet)}</code> = <code>{e(value)}</code></h3>{chart}"
                "<table><tr><th>metric</th><th>description</th><th>baseline</th>"
                "<th>window</th><th></th></tr>" + "".join(rows) + "</table>"
            )
    parts.append(_violations(violations, ("facet", "facet_value", "metric_name")))
    parts.append("</body></html>")
    return "\n".join(parts)


def render_explainability_report(
    analysis: Mapping[str, Any],
    baseline: Mapping[str, Any] | None,
    ndcg: Mapping[str, float],
    violations: Sequence[Mapping[str, Any]],
    *,
    records: int,
    threshold: float,
    context: ReportContext | None = None,
) -> str:
    """``report.html`` of a feature-attribution-drift execution over ``records`` records."""
    window = (analysis.get("explanations") or {}).get("kernel_shap") or {}
    before = ((baseline or {}).get("explanations") or {}).get("kernel_shap") or {}
    low = min(ndcg.values()) if ndcg else math.nan
    parts = [
        _HEAD.replace("Vigil analysis report", "Vigil explainability report"),
        "<h1>Vigil feature attribution report</h1>",
        report_header(context),
        f"<div>Window of {records} records explained.</div>",
        '<div class="summary">',
        _card(str(len(violations)), "labels drifted", bool(violations)),
        _card("n/a" if math.isnan(low) else f"{low:.4f}", f"lowest NDCG (threshold {threshold:g})",
              bool(violations)),
        "</div>",
        _LEGEND,
    ]
    for label, doc in window.items():
        values: Mapping[str, Any] = doc.get("global_shap_values") or {}
        base_values: Mapping[str, Any] = (before.get(label) or {}).get("global_shap_values") or {}
        names = sorted(values, key=lambda f: -abs(_number(values[f]) or 0.0))
        score = ndcg.get(str(label))
        parts.append(
            f"<h2>Label <code>{e(str(label))}</code></h2><div>Expected value "
            f"{_show(doc.get('expected_value'))}"
            + ("" if score is None else f", NDCG against the baseline {score:.4f}")
            + "</div>"
        )
        parts.append(
            paired_values(
                names,
                [_number(base_values.get(n)) for n in names],
                [_number(values[n]) for n in names],
            )
        )
    parts.append(_violations(violations, ("label", "metric_name")))
    parts.append("</body></html>")
    return "\n".join(parts)


def _violations(violations: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> str:
    if not violations:
        return '<h2>Violations</h2><p class="ok">No violations.</p>'
    head = "".join(f"<th>{e(k)}</th>" for k in (*keys, "check", "description"))
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{e(str(v.get(k, '')))}</td>" for k in keys)
        + f"<td><code>{e(str(v.get('constraint_check_type', '')))}</code></td>"
        f"<td>{e(str(v.get('description', '')))}</td></tr>"
        for v in violations
    )
    return f"<h2>Violations</h2><table><tr>{head}</tr>{rows}</table>"
