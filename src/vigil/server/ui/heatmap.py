"""The drift heatmap of the endpoint page: features x windows, drawn server-side as an HTML
table whose cells are coloured by how far each window's drift went towards its threshold.

The colour is a sequential blue scale (light to dark, readable by every kind of colour
vision): the cell's severity is ``value / threshold`` for a distance (``threshold / value``
for a p-value, drifted below its threshold), capped at 2, so a cell is half-way dark at its
threshold. A drifted cell is also marked with a sign and an outline, so nothing rests on colour
alone; every cell's ``title`` says the value, the threshold and the window.

>>> hm = build_heatmap([0.0, 3600.0], {"age": {0.0: 0.05, 3600.0: 0.3}, "zip": {3600.0: 0.01}},
...                    {"age": DriftLimit(0.1, "distance", "JensenShannon")})
>>> [(r.feature, [c.drifted for c in r.cells]) for r in hm.rows]
[('age', [False, True]), ('zip', [False, False])]
>>> hm.rows[1].cells[0].value is None, hm.rows[1].cells[0].title
(True, 'zip, window 1970-01-01 00:00:00Z: no figure')
>>> hm.rows[0].cells[1].title
'age, window 1970-01-01 01:00:00Z: JensenShannon 0.3 > threshold 0.1: drifted'
>>> hm.drifted_columns()
{3600.0: ['age']}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from vigil.app.endpoint_queries import DriftLimit
from vigil.server.ui.render import fmt_num, fmt_time

#: the blue scale (ColorBrewer "Blues", sequential and colour-blind safe), light to dark
BLUES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594")
NO_DATA = "#eeeeee"


def severity(value: float, limit: DriftLimit | None) -> float:
    """How far ``value`` went towards its threshold: 1 at the threshold, capped to [0, 2].

    >>> severity(0.05, DriftLimit(0.1)), severity(0.5, DriftLimit(0.1))
    (0.5, 2.0)
    >>> severity(0.01, DriftLimit(0.05, "p_value")), severity(0.5, DriftLimit(None))
    (2.0, 0.5)
    """
    if limit is None or limit.threshold is None or limit.threshold <= 0:
        ratio = value  # no threshold: the value itself (drift distances are in [0, 1])
    elif limit.kind == "p_value":
        ratio = limit.threshold / value if value > 0 else 2.0
    else:
        ratio = value / limit.threshold
    return max(0.0, min(2.0, ratio))


def colour(sev: float) -> tuple[str, str]:
    """The cell's background for a severity in [0, 2], and a text colour that reads on it.

    >>> colour(0.0), colour(2.0)
    (('#f7fbff', '#000000'), ('#084594', '#ffffff'))
    """
    i = min(len(BLUES) - 1, int(sev / 2.0 * len(BLUES)))
    return BLUES[i], "#ffffff" if i >= 5 else "#000000"


@dataclass
class HeatCell:
    """One feature in one window."""

    column: float  # the window's period start, UNIX seconds
    value: float | None
    drifted: bool
    title: str
    background: str
    text: str


@dataclass
class HeatRow:
    """One feature across the windows."""

    feature: str
    limit: DriftLimit | None
    cells: list[HeatCell] = field(default_factory=list)


@dataclass
class Heatmap:
    """Rows of features, one cell per column (window)."""

    columns: list[float]
    rows: list[HeatRow]

    def drifted_columns(self) -> dict[float, list[str]]:
        """Column -> the features flagged in it (columns with none left out)."""
        out: dict[float, list[str]] = {}
        for row in self.rows:
            for cell in row.cells:
                if cell.drifted:
                    out.setdefault(cell.column, []).append(row.feature)
        return out


def _title(feature: str, column: float, value: float | None, limit: DriftLimit | None) -> str:
    where = f"{feature}, window {fmt_time(column)}"
    if value is None:
        return f"{where}: no figure"
    method = (limit.method + " ") if limit is not None and limit.method else ""
    if limit is None or limit.threshold is None:
        return f"{where}: {method}{fmt_num(value)} (no threshold known)"
    drifted = limit.drifted(value)
    op = ("<" if drifted else ">=") if limit.kind == "p_value" else (">" if drifted else "<=")
    verdict = "drifted" if drifted else "within"
    return f"{where}: {method}{fmt_num(value)} {op} threshold {fmt_num(limit.threshold)}: {verdict}"


def build_heatmap(
    columns: Sequence[float],
    values: Mapping[str, Mapping[float, float]],
    limits: Mapping[str, DriftLimit],
) -> Heatmap:
    """The heatmap of ``values`` (feature -> column -> drift value) over ``columns`` (sorted
    here), features by name."""
    cols = sorted(set(columns))
    rows = []
    for feature in sorted(values):
        limit = limits.get(feature)
        row = HeatRow(feature, limit)
        for column in cols:
            value = values[feature].get(column)
            if value is None:
                background, text = NO_DATA, "#000000"
            else:
                background, text = colour(severity(value, limit))
            row.cells.append(
                HeatCell(
                    column=column,
                    value=value,
                    drifted=limit.drifted(value) if limit is not None else False,
                    title=_title(feature, column, value, limit),
                    background=background,
                    text=text,
                )
            )
        rows.append(row)
    return Heatmap(cols, rows)
