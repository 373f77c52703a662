"""Bias drift: a window's bias metrics against a baseline ``analysis.json``.

**The rule** (Clarify's ``bias_drift_check``): each metric value of the baseline is its own
threshold. A window's metric is a violation when it is *farther from the metric's ideal* than
the baseline's: ``abs(window - ideal) > abs(baseline - ideal)``, the ideal being 0 for the
difference metrics and 1 for DI. So the allowed range is ``[ideal - r, ideal + r]`` with
``r = abs(baseline - ideal)``: baseline DPPL 0.2, window 0.1 is fine, window -0.3 violates.
A metric with no value (``null`` + ``error``) on either side is not checked.

**Vigil's option**: with a :class:`~vigil.checks.bias.bootstrap.Bootstrap`, a violation counts
only when the window's Normal bootstrap interval lies wholly outside the allowed range, so a
small window does not page on noise.

>>> base = {"post_training_bias_metrics": {"label": "y", "label_value_or_threshold": "1",
...     "facets": {"sex": [{"value_or_threshold": "0", "metrics": [
...         {"name": "DPPL", "description": "", "value": 0.2},
...         {"name": "DI", "description": "", "value": 0.8}]}]}}}
>>> now = {"post_training_bias_metrics": {"label": "y", "label_value_or_threshold": "1",
...     "facets": {"sex": [{"value_or_threshold": "0", "metrics": [
...         {"name": "DPPL", "description": "", "value": -0.3},
...         {"name": "DI", "description": "", "value": 1.1}]}]}}}
>>> [v["metric_name"] for v in drift_violations(now, base)]
['DPPL']
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vigil.checks.bias.bootstrap import (
    Bootstrap,
    cdd_from_table,
    normal_interval,
    replicate,
    resample_cdd_tables,
    resample_counts,
)
from vigil.checks.bias.cdd import group_codes
from vigil.checks.bias.compute import compute_analysis, with_predictions
from vigil.checks.bias.counts import count
from vigil.checks.bias.data import to_bias_data
from vigil.checks.bias.errors import BiasMetricError
from vigil.checks.bias.registry import IDEAL
from vigil.checks.bias.report import (
    COUNT_METRICS,
    BiasData,
    collapse_labels,
    facet_values,
    metric_names,
)
from vigil.checks.bias.results import parse_value
from vigil.formats.clarify_analysis import POST, PRE, AnalysisDocument
from vigil.formats.clarify_config import AnalysisConfig

CHECK_TYPE = "bias_drift_check"
SECTIONS = {"pre_training": PRE, "post_training": POST}
Key = tuple[str, str, str, str]  # stage, facet, facet value, metric
Interval = tuple[float, float]


def value_text(value: float) -> str:
    """A value as the container prints it: Python's repr, ``Infinity`` for inf."""
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


def description(value: float, baseline: float) -> str:
    """The current container's wording of a bias drift violation."""
    return (
        f"Metric value {value_text(value)} doesn't meet the baseline constraint requirement "
        f"{value_text(baseline)}"
    )


def allowed_range(name: str, baseline: float) -> Interval:
    """``[ideal - r, ideal + r]``, ``r = abs(baseline - ideal)``."""
    ideal = IDEAL.get(name, 0.0)
    r = abs(baseline - ideal)
    return ideal - r, ideal + r


def is_worse(name: str, value: float, baseline: float) -> bool:
    """Farther from the ideal than the baseline (NaN never is)."""
    ideal = IDEAL.get(name, 0.0)
    if math.isnan(value) or math.isnan(baseline):
        return False
    return abs(value - ideal) > abs(baseline - ideal)


def _as_dict(doc: AnalysisDocument | Mapping[str, Any]) -> Mapping[str, Any]:
    return doc.to_dict() if isinstance(doc, AnalysisDocument) else doc


def _values(section: Mapping[str, Any]) -> dict[tuple[str, str, str], float]:
    out = {}
    for facet, entries in dict(section.get("facets", {})).items():
        for entry in entries:
            for m in entry.get("metrics", []):
                v = parse_value(m.get("value"))
                if v is not None and m.get("error") is None:
                    out[(str(facet), str(entry["value_or_threshold"]), str(m["name"]))] = v
    return out


def drift_violations(
    current: AnalysisDocument | Mapping[str, Any],
    baseline: AnalysisDocument | Mapping[str, Any],
    *,
    intervals: Mapping[Key, Interval] | None = None,
    stages: tuple[str, ...] = ("post_training", "pre_training"),
) -> list[dict[str, str]]:
    """The ``violations`` of ``constraint_violations.json`` (Clarify's shape) for every metric
    of the given stages present in both documents, matched by facet, facet value and name.
    With ``intervals`` (from :func:`metric_intervals`), a metric whose interval overlaps the
    allowed range is not a violation; a metric without an interval is decided by its value."""
    cur, base = _as_dict(current), _as_dict(baseline)
    out = []
    for stage in stages:
        key = SECTIONS[stage]
        if not isinstance(cur.get(key), Mapping) or not isinstance(base.get(key), Mapping):
            continue
        now, then = _values(cur[key]), _values(base[key])
        for (facet, value_text_, name), value in now.items():
            b = then.get((facet, value_text_, name))
            if b is None or not is_worse(name, value, b):
                continue
            ci = (intervals or {}).get((stage, facet, value_text_, name))
            if ci is not None:
                lo, hi = allowed_range(name, b)
                if not (ci[0] > hi or ci[1] < lo):
                    continue  # the interval reaches the allowed range: noise, not drift
            out.append(
                {
                    "facet": facet,
                    "facet_value": value_text_,
                    "metric_name": name,
                    "constraint_check_type": CHECK_TYPE,
                    "description": description(value, b),
                }
            )
    return out


def metric_intervals(
    data: Any, config: AnalysisConfig, stage: str, bootstrap: Bootstrap
) -> dict[Key, Interval]:
    """Normal bootstrap intervals of one stage's metrics (FT is left out: see
    :mod:`.bootstrap`), keyed by (stage, facet, facet value, metric)."""
    bias_data, cfg = with_predictions(to_bias_data(data), config)
    post = stage == "post_training"
    methods = cfg.post_training if post else cfg.pre_training
    names = metric_names(stage, methods or "all")
    labels = collapse_labels(
        bias_data,
        cfg.label,
        cfg.label_values_or_threshold,
        cfg.predicted_label if post else None,
        strict_thresholds=False,
        require_positive_prediction=False,
    )
    codes = None
    if cfg.group_variable is not None:
        codes = group_codes(bias_data.column(cfg.group_variable, "group_variable")[1])
    rng = np.random.default_rng(bootstrap.seed)
    z = bootstrap.z
    out: dict[Key, Interval] = {}
    for facet in cfg.facets:
        name, entries = facet_values(
            bias_data, facet.name_or_index, facet.value_or_threshold, strict_thresholds=False
        )
        for text, mask in entries:
            if isinstance(mask, Exception):
                continue
            counts = count(mask, labels.label, labels.predicted)
            draws = resample_counts(counts, bootstrap.n_resamples, rng)
            for metric in names:
                ci = None
                if metric in COUNT_METRICS:
                    try:
                        point = float(COUNT_METRICS[metric](counts))
                    except BiasMetricError:
                        continue
                    ci = normal_interval(point, replicate(COUNT_METRICS[metric], draws), z)
                elif metric in ("CDDL", "CDDPL") and codes is not None:
                    target = labels.label if metric == "CDDL" else labels.predicted
                    assert target is not None
                    ci = _cdd_interval(mask, target, codes, bootstrap, rng, z)
                if ci is not None:
                    out[(stage, name, text, metric)] = ci
    return out


def _cdd_interval(
    mask: Any, label: Any, codes: Any, bootstrap: Bootstrap, rng: np.random.Generator, z: float
) -> Interval | None:
    k = int(codes.max()) + 1
    cell = codes * 4 + mask.astype(np.intp) * 2 + label.astype(np.intp)
    table = np.bincount(cell, minlength=4 * k).reshape(k, 4)
    try:
        point = cdd_from_table(table)
    except BiasMetricError:
        return None
    reps = []
    for t in resample_cdd_tables(table, bootstrap.n_resamples, rng):
        try:
            reps.append(cdd_from_table(t))
        except BiasMetricError:
            reps.append(math.nan)
    return normal_interval(point, reps, z)


@dataclass
class BiasDrift:
    """A window's analysis, its violations against the baseline, and the intervals used."""

    analysis: AnalysisDocument
    violations: list[dict[str, str]]
    intervals: dict[Key, Interval] = field(default_factory=dict)

    def violations_document(self) -> dict[str, Any]:
        """``constraint_violations.json``."""
        return {"version": "1.0", "violations": list(self.violations)}


def bias_drift_check(
    window: Any,
    config: AnalysisConfig,
    baseline: AnalysisDocument | Mapping[str, Any],
    *,
    bootstrap: Bootstrap | None = None,
    stages: list[str] | None = None,
    strict_thresholds: bool = False,
) -> BiasDrift:
    """Compute the window's bias analysis (a table or :class:`BiasData` with the label, facet,
    predicted label columns) and decide drift against ``baseline`` (a parsed ``analysis.json``)
    by :func:`drift_violations`; with ``bootstrap``, only metrics whose interval lies outside
    the allowed range count. Thresholds are not strict by default: an empty facet in a small
    window is a per-metric error, not a failed check."""
    data: BiasData = to_bias_data(window)
    analysis = compute_analysis(
        data,
        config,
        stages=stages,
        strict_thresholds=strict_thresholds,
        require_positive_prediction=False,  # a window where nobody was approved is measured
    )
    intervals: dict[Key, Interval] = {}
    done = [s for s, key in SECTIONS.items() if key in analysis.to_dict()]
    if bootstrap is not None:
        for stage in done:
            intervals.update(metric_intervals(data, config, stage, bootstrap))
    violations = drift_violations(
        analysis, baseline, intervals=intervals if bootstrap else None, stages=tuple(done)
    )
    return BiasDrift(analysis, violations, intervals)


@dataclass(frozen=True)
class ParsedViolation:
    """A bias drift violation read back, with the two numbers of its description."""

    facet: str
    facet_value: str
    metric_name: str
    value: float | None
    threshold: float | None


_WORDINGS = (
    re.compile(
        r"^Metric value (?P<v>\S+) doesn't meet the baseline constraint requirement (?P<t>\S+)$"
    ),
    re.compile(r"^Value (?P<v>\S+) does not meet the constraint requirement ?(?P<t>\S*)$"),
)


def _number(text: str) -> float | None:
    try:
        return float(text.replace("Infinity", "inf")) if text else None
    except ValueError:
        return None


def read_violations(document: Mapping[str, Any]) -> list[ParsedViolation]:
    """The ``bias_drift_check`` violations of a ``constraint_violations.json``, in either
    wording (current container: ``Metric value V doesn't meet the baseline constraint
    requirement T``; older docs: ``Value V does not meet the constraint requirement``)."""
    out = []
    for v in document.get("violations", []):
        if v.get("constraint_check_type") != CHECK_TYPE:
            continue
        text = str(v.get("description", "")).strip()
        value = threshold = None
        for pattern in _WORDINGS:
            m = pattern.match(text)
            if m:
                value, threshold = _number(m.group("v")), _number(m.group("t"))
                break
        out.append(
            ParsedViolation(
                str(v.get("facet", "")),
                str(v.get("facet_value", "")),
                str(v.get("metric_name", "")),
                value,
                threshold,
            )
        )
    return out
