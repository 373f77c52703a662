"""The report's anomaly section: the share of anomalous records and the top records."""

from __future__ import annotations

from html import escape as e
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vigil.checks.anomaly.scan import AnomalyReport

__all__ = ["anomaly_section"]

#: top records shown in the report (anomalies.json keeps all it was asked for)
SHOWN = 10


def anomaly_section(report: AnomalyReport | None) -> list[str]:
    """The HTML of the section, empty without an outlier model."""
    if report is None:
        return []
    cls = "bad" if report.exceeded else "ok"
    parts = [
        "<h2>Anomalies</h2>",
        f'<p><b class="{cls}">{report.share:.2%}</b> of {report.record_count} records are '
        f"anomalous ({report.anomalous_count}; {e(report.method)} score above "
        f"{report.threshold:.6g}); tolerated share {report.max_share:.2%}.</p>",
    ]
    if report.missing_columns:
        names = ", ".join(e(n) for n in report.missing_columns)
        parts.append(f"<p>Columns missing from the window, imputed: {names}.</p>")
    rows = []
    for r in report.top_records[:SHOWN]:
        ident = r.get("inference_id") or r.get("event_id") or ""
        feats = ", ".join(
            f"{e(f['name'])} = {e(str(f['value']))} ({f['contribution']:.3g})"
            for f in r["features"]
        )
        mark = "bad" if r["anomalous"] else "ok"
        rows.append(
            f"<tr><td>{r['row']}</td><td>{e(str(ident))}</td>"
            f'<td class="{mark}">{r["score"]:.6g}</td><td>{feats or "&mdash;"}</td></tr>'
        )
    if rows:
        parts.append(
            "<table><tr><th>row</th><th>inference id</th><th>score</th>"
            "<th>top features (value, contribution)</th></tr>" + "".join(rows) + "</table>"
        )
    return parts
