"""The bias report: every facet value of every facet, each metric a value or an error.

:func:`bias_report` collapses the label (and predicted label) to booleans once, then for each
facet value builds facet d's mask and counts the rows in one pass; every metric of that value
is read from those counts (CDD and FT from their own pass). A metric that fails for one facet
value is listed with ``value: None`` and its error, as Clarify does; what makes the whole report
impossible raises :class:`~vigil.checks.bias.errors.BiasReportError` naming the column.

>>> import numpy as np
>>> from vigil.formats.clarify_config import AnalysisConfig
>>> data = BiasData({"sex": np.array([0, 1] * 30), "y": np.array([1, 0, 1, 0, 1, 1] * 10)})
>>> cfg = AnalysisConfig.from_dict({"label": "y", "label_values_or_threshold": [1],
...     "facet": [{"name_or_index": "sex", "value_or_threshold": [1]}]})
>>> rep = bias_report(data, cfg, "pre_training", methods=["CI", "DPL"])
>>> [(m.name, round(m.value, 4)) for m in rep.facets["sex"][0].metrics]
[('CI', 0.0), ('DPL', 0.6667)]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.checks.bias import posttraining, pretraining
from vigil.checks.bias.cdd import NO_GROUP, cdd, group_codes
from vigil.checks.bias.collapse import (
    Kind,
    breaks,
    check_threshold,
    column_max,
    infer_kind,
    interval_text,
    select,
    select_categorical,
    select_continuous,
    to_numeric,
    unique_in_order,
)
from vigil.checks.bias.counts import Counts, count
from vigil.checks.bias.errors import BiasMetricError, BiasReportError, SelectionError
from vigil.checks.bias.flip import flip_test
from vigil.checks.bias.registry import STAGES
from vigil.checks.bias.results import FacetValueResult, MetricResult, StageReport
from vigil.errors import VigilError
from vigil.formats.clarify_config import AnalysisConfig

BoolArray = npt.NDArray[np.bool_]
Stage = str  # "pre_training" | "post_training"

COUNT_METRICS: dict[str, Callable[[Counts], float]] = {
    "CI": pretraining.CI,
    "DPL": pretraining.DPL,
    "JS": pretraining.JS,
    "KL": pretraining.KL,
    "KS": pretraining.KS,
    "LP": pretraining.LP,
    "TVD": pretraining.TVD,
    "AD": posttraining.AD,
    "DAR": posttraining.DAR,
    "DCA": posttraining.DCA,
    "DCR": posttraining.DCR,
    "DI": posttraining.DI,
    "DPPL": posttraining.DPPL,
    "DRR": posttraining.DRR,
    "GE": posttraining.GE,
    "RD": posttraining.RD,
    "SD": posttraining.SD,
    "TE": posttraining.TE,
}
PREDICTED_TYPE = "Predicted Label Column series datatype is not the same as Label Column series"
NO_POSITIVE_PREDICTION = (
    "No Label values are present in the predicted Label Column,"
    "Positive Predicted Index Series contains all False values"
)


@dataclass(frozen=True)
class BiasData:
    """The columns of a dataset as NumPy arrays (strings as object arrays), in the data's
    order; ``categorical`` names the columns with a category (Arrow dictionary) type, which
    Clarify always treats as categorical."""

    columns: Mapping[str, npt.NDArray[Any]]
    categorical: frozenset[str] = field(default_factory=frozenset)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def column(self, ref: str | int | None, field_name: str) -> tuple[str, npt.NDArray[Any]]:
        """A column by name or index; a :class:`BiasReportError` naming the config key."""
        names = list(self.columns)
        key: str | None = None
        if isinstance(ref, bool):
            key = None
        elif isinstance(ref, int):
            if not 0 <= ref < len(names):
                raise BiasReportError(
                    f"{field_name} {ref}: no column at that index (the data has {len(names)})"
                )
            key = names[ref]
        else:
            key = ref
        if key is None or key not in self.columns:
            shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
            raise BiasReportError(f"{field_name} {ref!r} is not a column of the data ({shown})")
        return key, self.columns[key]


@dataclass(frozen=True)
class Collapsed:
    """The label (and predicted label) as booleans, with Clarify's string of the label's
    positive values or interval."""

    label_name: str
    label_text: str
    label: BoolArray
    predicted: BoolArray | None


def collapse_labels(
    data: BiasData,
    label: str | int | None,
    values: Sequence[Any] | None,
    predicted_label: str | int | None = None,
    *,
    strict_thresholds: bool = True,
    require_positive_prediction: bool = True,
) -> Collapsed:
    """The boolean label and predicted label (Clarify's §1 rules and whole-report errors).

    Without ``require_positive_prediction`` (a monitoring window) no positive prediction is
    not an error: the metrics are computed by Clarify's division rules, so a window of a few
    records where the model approved nobody does not fail the whole execution."""
    name, raw = data.column(label, "label")
    if not values:
        raise BiasReportError("label_values_or_threshold: required for bias metrics (got none)")
    values = list(values)
    kind = infer_kind(raw, values, categorical=name in data.categorical)
    if kind is Kind.CONTINUOUS:
        try:
            values = check_threshold(raw, values)
        except BiasMetricError as exc:
            raise BiasReportError(f"label {name!r}: {exc.message}") from None
        numeric = to_numeric(raw)
        points = breaks(column_max(numeric), values)
        if strict_thresholds and not min(values) < column_max(numeric):
            raise BiasReportError(
                f"label {name!r}: threshold {values[0]} is not below the column's maximum "
                f"{column_max(numeric)}, so no label would be positive"
            )
        positive = select_continuous(numeric, points)
        text = interval_text(points)
    else:
        try:
            positive = select_categorical(raw, values)
        except SelectionError as exc:
            raise BiasReportError(f"label {name!r}: {exc.message}") from None
        text = ",".join(str(v) for v in values)
    predicted = None
    if predicted_label is not None:
        pname, praw = data.column(predicted_label, "predicted_label")
        pkind = infer_kind(praw, values, categorical=pname in data.categorical)
        if pkind is not kind:
            raise BiasReportError(
                f"predicted_label {pname!r} ({pkind.name.lower()}) vs label {name!r} "
                f"({kind.name.lower()}): {PREDICTED_TYPE}"
            )
        if kind is Kind.CONTINUOUS:
            numeric_l = to_numeric(raw)
            numeric_p = to_numeric(praw).astype(numeric_l.dtype)
            top = max(column_max(numeric_l), column_max(numeric_p))
            predicted = select_continuous(numeric_p, breaks(top, values))
        else:
            try:
                predicted = select_categorical(praw, values)
            except SelectionError as exc:
                raise BiasReportError(f"predicted_label {pname!r}: {exc.message}") from None
        if require_positive_prediction and not predicted.any():
            raise BiasReportError(f"predicted_label {pname!r}: {NO_POSITIVE_PREDICTION}")
    return Collapsed(name, text, positive, predicted)


def facet_values(
    data: BiasData, facet: str | int, given: Sequence[Any] | None, *, strict_thresholds: bool
) -> tuple[str, list[tuple[str, BoolArray | Exception]]]:
    """The facet's name and, per facet value, Clarify's string and facet d's mask (or the
    error that will fill every metric of that value)."""
    name, raw = data.column(facet, "facet")
    kind = infer_kind(raw, given, categorical=name in data.categorical)
    if kind is Kind.CONTINUOUS:
        try:
            thresholds = check_threshold(raw, list(given or []))
        except BiasMetricError as exc:
            raise BiasReportError(f"facet {name!r}: {exc.message}") from None
        numeric = to_numeric(raw)
        points = breaks(column_max(numeric), thresholds)
        if strict_thresholds and not min(thresholds) < column_max(numeric):
            raise BiasReportError(
                f"facet {name!r}: threshold {thresholds[0]} is not below the column's maximum "
                f"{column_max(numeric)}, so facet d would be empty"
            )
        return name, [(interval_text(points), select_continuous(numeric, points))]
    groups = [[v] for v in unique_in_order(raw)] if not given else [list(given)]
    out: list[tuple[str, BoolArray | Exception]] = []
    for values in groups:
        try:
            sel = select(raw, values, Kind.CATEGORICAL)
            out.append((sel.text, sel.mask))
        except SelectionError as exc:
            out.append((",".join(str(v) for v in values), exc))
    return name, out


def _features(data: BiasData, drop: set[str], excluded: set[str]) -> npt.NDArray[Any] | None:
    """FT's feature matrix: the other columns, or None when one is not numeric."""
    cols = [c for c in data.columns if c not in drop and c not in excluded]
    arrays = [data.columns[c] for c in cols]
    if any(a.dtype.kind not in "biuf" or c in data.categorical for c, a in zip(cols, arrays)):
        return None
    if not arrays:
        return np.empty((len(data), 0))
    return np.column_stack([a.astype(np.float64) for a in arrays])


def metric_names(stage: Stage, methods: str | Sequence[str] | None = "all") -> list[str]:
    """The metrics to compute, sorted by name; unknown names raise naming the methods key."""
    known = STAGES[stage]
    if methods is None or methods == "all" or list(methods) == ["all"]:
        return sorted(known)
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise BiasReportError(
            f"methods.{stage}_bias.methods: unknown metric(s) {', '.join(unknown)}; "
            f'expected "all" or some of {", ".join(sorted(known))}'
        )
    return sorted(set(methods))


def bias_report(
    data: BiasData,
    config: AnalysisConfig,
    stage: Stage,
    *,
    methods: str | Sequence[str] | None = "all",
    strict_thresholds: bool = True,
    flip_jobs: int | None = -1,
    require_positive_prediction: bool = True,
) -> StageReport:
    """One stage (``pre_training`` or ``post_training``) of Clarify's bias analysis.

    ``config.predicted_label`` must name the predicted-label column for ``post_training``.
    ``strict_thresholds`` (Vigil's default) refuses a facet or label threshold at or above the
    column's maximum (Clarify would report an empty facet); a monitor's small windows may pass
    False to get Clarify's per-metric errors instead.
    """
    if stage not in STAGES:
        raise BiasReportError(f"stage {stage!r}: expected pre_training or post_training")
    names = metric_names(stage, methods)
    post = stage == "post_training"
    if post and config.predicted_label is None:
        raise BiasReportError("predicted_label: needed for post-training metrics (got none)")
    labels = collapse_labels(
        data,
        config.label,
        config.label_values_or_threshold,
        config.predicted_label if post else None,
        strict_thresholds=strict_thresholds,
        require_positive_prediction=require_positive_prediction,
    )
    codes = None
    if config.group_variable is not None:
        codes = group_codes(data.column(config.group_variable, "group_variable")[1])
    if not config.facets:
        raise BiasReportError("facet: at least one facet is needed for bias metrics")
    report = StageReport(labels.label_name, labels.label_text)
    drop_base = {labels.label_name}
    if config.predicted_label is not None:
        drop_base.add(data.column(config.predicted_label, "predicted_label")[0])
    excluded = {str(c) for c in config.excluded_columns}
    for facet in config.facets:
        name, entries = facet_values(
            data, facet.name_or_index, facet.value_or_threshold, strict_thresholds=strict_thresholds
        )
        features: npt.NDArray[Any] | None = None
        if "FT" in names:
            features = _features(data, drop_base | {name}, excluded)
        results = []
        for text, mask in entries:
            results.append(
                FacetValueResult(
                    text,
                    _metrics(names, stage, mask, labels, codes, features, flip_jobs),
                )
            )
        report.facets.setdefault(name, []).extend(results)
    return report


def _metrics(
    names: list[str],
    stage: Stage,
    mask: BoolArray | Exception,
    labels: Collapsed,
    codes: npt.NDArray[np.intp] | None,
    features: npt.NDArray[Any] | None,
    flip_jobs: int | None,
) -> list[MetricResult]:
    described = STAGES[stage]
    if isinstance(mask, Exception):
        return [MetricResult(n, described[n], None, _text(mask)) for n in names]
    predicted = labels.predicted
    counts = count(mask, labels.label, predicted)
    out = []
    for n in names:
        try:
            if n in COUNT_METRICS:
                value = COUNT_METRICS[n](counts)
            elif n == "CDDL":
                value = _cdd(mask, labels.label, codes)
            elif n == "CDDPL":
                assert predicted is not None
                value = _cdd(mask, predicted, codes)
            else:  # FT
                assert predicted is not None
                value = flip_test(features, mask, predicted, n_jobs=flip_jobs)
        except Exception as exc:  # each metric's own failure is its error, as Clarify
            out.append(MetricResult(n, described[n], None, _text(exc)))
            continue
        out.append(MetricResult(n, described[n], float(value)))
    return out


def _cdd(mask: BoolArray, label: BoolArray, codes: npt.NDArray[np.intp] | None) -> float:
    if codes is None:
        raise BiasMetricError(NO_GROUP)
    return cdd(mask, label, None, codes=codes)


def _text(exc: BaseException) -> str:
    """An error as the metric's ``error``: a Vigil error's message without its code."""
    return exc.message if isinstance(exc, VigilError) else str(exc)
