"""Model-quality baselines and monitoring runs over labelled data (CSV, Parquet, frames).

A baseline reads a labelled data set (ground truth, prediction and, for binary problems,
optionally the positive-class probability), computes SageMaker's model-quality metrics
(:mod:`vigil.checks.model_quality`) and suggests constraints with a tolerance. An analysis
computes the same metrics on a window of merged records (captures joined with ground truth),
checks them against the baseline's constraints and writes SageMaker's files:
``statistics.json``, ``constraints.json`` (the baseline's, copied) and
``constraint_violations.json``. :attr:`ModelQualityAnalysis.metrics` holds every scalar
metric by its key for the metric store. A classifier's run also computes ``H(label |
prediction)`` of the window's and the baseline's confusion matrices and checks its change
(:mod:`vigil.checks.model_quality.entropy`): :attr:`ModelQualityAnalysis.conditional_entropy`.

>>> import pyarrow as pa
>>> train = pa.table({"y": [0, 1, 1, 0], "p": [0.2, 0.9, 0.7, 0.4]})
>>> base = suggest_model_quality_baseline(train, "BinaryClassification",
...     ground_truth_attribute="y", probability_attribute="p")
>>> base.statistics.metric_values()["auc"], base.constraints.constraints["auc"].threshold
(1.0, 0.95)
>>> window = pa.table({"y": [0, 1, 1, 0], "p": [0.8, 0.9, 0.3, 0.4]})
>>> a = analyze_model_quality(window, base, ground_truth_attribute="y", probability_attribute="p")
>>> a.metrics["auc"], [v.metric_name for v in a.violations][:3]
(0.5, ['recall', 'precision', 'accuracy'])
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vigil.analysis.engines import ReadOptions, get_engine
from vigil.analysis.engines.quality import QualitySpec, evaluate_on_spark, read_columns
from vigil.analysis.engines.spark import SparkEngine
from vigil.analysis.estimation import load_cbpe, save_cbpe
from vigil.checks.cbpe import CBPE
from vigil.checks.model_quality import (
    ModelQualityResult,
    check_model_quality,
    compute_metrics,
    normalize_problem_type,
    suggest_model_quality_constraints,
)
from vigil.checks.model_quality.entropy import (
    ConditionalEntropy,
    conditional_entropy_figures,
    entropy_constraints,
)
from vigil.errors import BaselineMismatchError, ConfigError, EmptyInputError, FormatError
from vigil.formats import jackson
from vigil.formats._base import write_atomic
from vigil.formats.model_quality import ModelQualityConstraints, ModelQualityStatistics
from vigil.formats.violations import ConstraintViolations, Violation
from vigil.io.readers import BadRecords, iter_tables
from vigil.locations import Location, ObjectPath, as_location
from vigil.report.context import ReportContext
from vigil.report.model_quality import render_model_quality_report

__all__ = [
    "DEFAULT_TOLERANCE",
    "ModelQualityAnalysis",
    "ModelQualityBaseline",
    "analyze_model_quality",
    "load_model_quality_baseline",
    "read_model_quality_columns",
    "suggest_model_quality_baseline",
]

log = logging.getLogger(__name__)

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
VIOLATIONS_FILE = "constraint_violations.json"
REPORT_FILE = "report.html"
SUMMARY_FILE = "analysis.json"
DEFAULT_TOLERANCE = 0.05
#: the options of the reader a model-quality run passes on (see :func:`iter_tables`), and
#: where it runs: ``engine`` (``local`` or ``spark``) and ``spark_master``
READER_OPTIONS = ("format", "header", "delimiter", "encoding", "engine", "spark_master")
_BINARY_DEFAULT_LABELS = {"0", "1", "0.0", "1.0", "true", "false"}


@dataclass
class ModelQualityBaseline:
    """A model-quality baseline: ``statistics.json`` and ``constraints.json``, and the CBPE
    calibration kept beside them (``cbpe.json``) when :func:`load_model_quality_baseline`
    found one or it was set."""

    statistics: ModelQualityStatistics
    constraints: ModelQualityConstraints
    skipped: dict[str, int] = field(default_factory=dict)
    bad_records: BadRecords = field(default_factory=BadRecords)
    estimator: CBPE | None = field(default=None, compare=False)

    @property
    def problem_type(self) -> str:
        """``Regression``, ``BinaryClassification`` or ``MulticlassClassification``."""
        return self.statistics.problem_type

    def save(self, directory: str | Path | ObjectPath) -> Location:
        """Write statistics.json and constraints.json (and cbpe.json, with an estimator) into
        ``directory``."""
        d = as_location(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.statistics.save(d / STATISTICS_FILE)
        self.constraints.save(d / CONSTRAINTS_FILE)
        if self.estimator is not None:
            save_cbpe(d, self.estimator)
        return d

    @classmethod
    def load(
        cls, directory: str | Path | ObjectPath, tolerance: float = DEFAULT_TOLERANCE
    ) -> ModelQualityBaseline:
        """Read a baseline directory (Vigil's or SageMaker's files as they are): both
        statistics.json and constraints.json must be there (``tolerance`` is kept for
        callers; constraints are never guessed)."""
        d = as_location(directory)
        for path in (d / STATISTICS_FILE, d / CONSTRAINTS_FILE):
            if not path.is_file():
                raise FormatError(
                    f"{path}: missing; a model-quality baseline directory needs "
                    f"{STATISTICS_FILE} and {CONSTRAINTS_FILE}"
                )
        statistics = ModelQualityStatistics.load(d / STATISTICS_FILE)
        constraints = ModelQualityConstraints.load(d / CONSTRAINTS_FILE)
        return cls(statistics=statistics, constraints=constraints)


@dataclass
class ModelQualityAnalysis:
    """One model-quality run: the window's statistics, the constraints and the violations;
    for a classifier, ``conditional_entropy`` (``H(label | prediction)``, the baseline's and the
    change, in nats; None for regression)."""

    statistics: ModelQualityStatistics
    constraints: ModelQualityConstraints
    violations: list[Violation]
    skipped: dict[str, int] = field(default_factory=dict)
    bad_records: BadRecords = field(default_factory=BadRecords)
    conditional_entropy: ConditionalEntropy | None = None
    #: the constraints checked: ``constraints`` with the conditional-entropy one (None: same)
    checked: ModelQualityConstraints | None = None

    @property
    def metrics(self) -> dict[str, float]:
        """Every scalar metric by its SageMaker key (NaN values left out), for the store."""
        return {k: v for k, v in self.statistics.metric_values().items() if v == v}

    @property
    def item_count(self) -> int:
        """Rows evaluated."""
        return self.statistics.dataset.item_count

    @property
    def has_violations(self) -> bool:
        """True when any constraint fired."""
        return bool(self.violations)

    def constraint_violations(self) -> ConstraintViolations:
        """constraint_violations.json as SageMaker writes it."""
        return ConstraintViolations(violations=self.violations)

    def _entropy(self) -> dict[str, float]:
        ce = self.conditional_entropy
        return {} if ce is None else {k: v for k, v in ce.metrics().items() if v == v}

    def summary(self) -> dict[str, Any]:
        """Counts, rows skipped, bad records, the conditional-entropy figures and the
        constraints checked (with the conditional-entropy one): ``analysis.json``."""
        return {"problem_type": self.statistics.problem_type, "item_count": self.item_count,
                "violation_count": len(self.violations), "skipped": dict(self.skipped),
                "bad_records": self.bad_records.to_dict(), "conditional_entropy": self._entropy(),
                "constraints_checked": (self.checked or self.constraints).to_dict()}

    def to_html(self, context: ReportContext | None = None,
                baseline: ModelQualityStatistics | None = None) -> str:
        """A self-contained, offline HTML report: the metrics against their constraints, the
        confusion matrix, ROC and PR curves (with the ``baseline``'s, when given);
        ``context`` names the execution it covers in its header."""
        return render_model_quality_report(
            self.statistics, self.checked or self.constraints, self.violations, context=context,
            baseline=baseline, extra=self._entropy(), bad_records=self.bad_records,
            skipped=self.skipped,
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def save(self, directory: str | Path | ObjectPath, context: ReportContext | None = None,
             baseline: ModelQualityStatistics | None = None) -> Location:
        """Write statistics.json, constraints.json, constraint_violations.json, analysis.json
        (:meth:`summary`) and report.html (see :meth:`to_html`)."""
        d = as_location(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.statistics.save(d / STATISTICS_FILE)
        self.constraints.save(d / CONSTRAINTS_FILE)
        self.constraint_violations().save(d / VIOLATIONS_FILE)
        write_atomic(d / SUMMARY_FILE, jackson.dumps(self.summary()))
        write_atomic(d / REPORT_FILE, self.to_html(context, baseline))
        return d


def read_model_quality_columns(
    data: Any,
    columns: dict[str, str | None],
    *,
    format: str = "auto",
    header: bool = True,
    bad: BadRecords | None = None,
    delimiter: str | None = None,
    encoding: str = "utf-8",
) -> dict[str, np.ndarray]:
    """The named columns of ``data`` (table, frame or paths) as NumPy arrays (``delimiter``
    and ``encoding`` as :func:`~vigil.io.readers.iter_tables` takes them).

    ``columns`` maps a role (``ground_truth_attribute``...) to a column name; roles mapped to
    None are left out. A missing column is an error naming the role, the column and the
    columns found.

    >>> import pyarrow as pa
    >>> cols = read_model_quality_columns(pa.table({"a": [1, 2], "b": ["x", "y"]}),
    ...                                   {"truth": "a", "pred": "b", "score": None})
    >>> cols["truth"].tolist(), cols["pred"].tolist()
    ([1, 2], ['x', 'y'])
    """
    tables = iter_tables(
        data, format=format, header=header, bad=bad, delimiter=delimiter, encoding=encoding
    )
    found = read_columns(tables, columns, header)
    if found is None:
        raise EmptyInputError(f"{data!r}: no data found; expected labelled rows")
    return found


def _default_positive_label(y_true: np.ndarray) -> Any:
    """1 when the labels look like 0/1 (or booleans); otherwise the caller must say."""
    values = np.unique(y_true[~_nullish(y_true)].astype(str)) if len(y_true) else np.array([])
    if all(v.lower() in _BINARY_DEFAULT_LABELS for v in values.tolist()):
        return 1
    shown = ", ".join(values[:6].tolist())
    raise ConfigError(
        f"positive label not given and the ground-truth labels ({shown}) are not 0/1; "
        "pass positive_label (--positive-label) naming the positive class"
    )


def _nullish(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "f":
        nan: np.ndarray = np.isnan(a)
        return nan
    if a.dtype.kind == "O":
        return np.array([v is None or v != v for v in a], dtype=bool)
    return np.zeros(len(a), dtype=bool)


def _evaluate(
    data: Any,
    problem_type: str,
    inference_attribute: str | None,
    ground_truth_attribute: str,
    probability_attribute: str | None,
    probability_threshold: float,
    positive_label: Any,
    labels: Any,
    seed: int,
    reader_options: dict[str, Any],
) -> tuple[ModelQualityResult, BadRecords]:
    ptype = normalize_problem_type(problem_type)
    if ptype != "BinaryClassification" and probability_attribute is not None:
        log.info("probability attribute %r ignored for %s", probability_attribute, ptype)
        probability_attribute = None
    if inference_attribute is None and probability_attribute is None:
        raise ConfigError(
            "no prediction column: pass inference_attribute (--inference-attribute)"
            + (" or probability_attribute" if ptype == "BinaryClassification" else "")
        )
    unknown = set(reader_options) - set(READER_OPTIONS)
    if unknown:
        raise ConfigError(
            f"unknown reader option(s): {', '.join(sorted(unknown))}; "
            f"expected {', '.join(READER_OPTIONS)}"
        )
    engine = get_engine(reader_options.pop("engine", None), data=data,
                        spark_master=reader_options.pop("spark_master", None))
    if isinstance(engine, SparkEngine):  # per-partition summaries merged here
        spec = QualitySpec(ptype, ground_truth_attribute, inference_attribute,
                           probability_attribute, seed)
        return evaluate_on_spark(engine, data, ReadOptions(**reader_options), spec,
                                 positive_label, probability_threshold, labels,
                                 _default_positive_label)
    bad = BadRecords()
    cols = read_model_quality_columns(
        data,
        {"ground_truth_attribute": ground_truth_attribute,
         "inference_attribute": inference_attribute,
         "probability_attribute": probability_attribute},
        bad=bad,
        **reader_options,
    )
    y_true = cols["ground_truth_attribute"]
    if ptype == "BinaryClassification" and positive_label is None:
        positive_label = _default_positive_label(y_true)
    if not 0.0 <= probability_threshold <= 1.0:
        raise ConfigError(
            f"probability threshold {probability_threshold} is outside [0, 1]"
        )
    result = compute_metrics(
        ptype,
        y_true,
        cols.get("inference_attribute"),
        cols.get("probability_attribute"),
        positive_label=1 if positive_label is None else positive_label,
        probability_threshold=probability_threshold,
        labels=labels,
        seed=seed,
    )
    if result.skipped:
        log.warning("model quality: %d row(s) skipped: %s", result.skipped_count, result.skipped)
    return result, bad


def suggest_model_quality_baseline(
    data: Any,
    problem_type: str,
    inference_attribute: str | None = None,
    ground_truth_attribute: str = "label",
    probability_attribute: str | None = None,
    probability_threshold: float = 0.5,
    positive_label: Any = None,
    tolerance: float = DEFAULT_TOLERANCE,
    *,
    std_multiplier: float = 0.0,
    labels: Any = None,
    seed: int = 0,
    **reader_options: Any,
) -> ModelQualityBaseline:
    """Metrics of a labelled data set and the constraints suggested from them.

    ``data``: a pyarrow/pandas/Polars table or paths (CSV, Parquet...; ``format`` and
    ``header`` pass to the reader). ``inference_attribute`` is the predicted-label column
    (predicted value for regression), ``probability_attribute`` the positive-class probability
    (binary; when no inference column is given, predictions are ``probability >=
    probability_threshold``). ``positive_label`` defaults to 1 for 0/1 labels and must be given
    otherwise. ``tolerance`` is relative (see
    :func:`~vigil.checks.model_quality.suggest_model_quality_constraints`); 0 is SageMaker's
    threshold = baseline value; ``std_multiplier`` widens each margin to at least that many
    subsample standard deviations. ``engine="spark"`` (``spark_master``) merges per-partition
    summaries computed on Spark: the same values, deviations from per-partition subsamples.
    """
    result, bad = _evaluate(
        data, problem_type, inference_attribute, ground_truth_attribute, probability_attribute,
        probability_threshold, positive_label, labels, seed, reader_options,
    )
    statistics = result.to_statistics()
    return ModelQualityBaseline(
        statistics=statistics,
        constraints=suggest_model_quality_constraints(
            statistics, tolerance, std_multiplier=std_multiplier
        ),
        skipped=result.skipped,
        bad_records=bad,
    )


def _utc_now() -> str:
    now = dt.datetime.now(dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def analyze_model_quality(
    data: Any,
    baseline: ModelQualityBaseline | ModelQualityConstraints | str | Path,
    problem_type: str | None = None,
    inference_attribute: str | None = None,
    ground_truth_attribute: str = "label",
    probability_attribute: str | None = None,
    probability_threshold: float = 0.5,
    positive_label: Any = None,
    *,
    labels: Any = None,
    seed: int = 0,
    evaluation_time: str | dt.datetime | None = None,
    max_conditional_entropy_change: float | None = None,
    **reader_options: Any,
) -> ModelQualityAnalysis:
    """Metrics of a window of merged records checked against a baseline's constraints.

    ``baseline`` is a :class:`ModelQualityBaseline`, constraints, a baseline directory or a
    ``constraints.json`` path (SageMaker's files load as they are). ``problem_type`` defaults to
    the constraints'. The statistics carry ``dataset.evaluation_time`` (now, UTC, unless given).

    Classifiers: ``H(label | prediction)`` of the window's confusion matrix and of the
    baseline's statistics (none with a ``constraints.json`` alone: the change is then NaN and
    never fires); a ``conditional_entropy_change`` violation when the change passes
    ``max_conditional_entropy_change`` nats (else the constraints' own
    ``conditional_entropy_change`` entry, else 0.2; ``inf`` turns it off).
    """
    constraints, base_stats = _parts_of(baseline)
    ptype = normalize_problem_type(problem_type or constraints.problem_type)
    if ptype != constraints.problem_type:
        raise BaselineMismatchError(
            f"problem type {ptype} does not match the baseline's constraints, which are "
            f"{constraints.problem_type}"
        )
    result, bad = _evaluate(
        data, ptype, inference_attribute, ground_truth_attribute, probability_attribute,
        probability_threshold, positive_label, labels, seed, reader_options,
    )
    when = evaluation_time or _utc_now()
    if isinstance(when, dt.datetime):
        when = when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    statistics = result.to_statistics(evaluation_time=when)
    checked, entropy, window_cm = constraints, None, _confusion(statistics)
    if ptype != "Regression" and window_cm is not None:
        entropy = conditional_entropy_figures(
            window_cm, None if base_stats is None else _confusion(base_stats)
        )
        checked = entropy_constraints(constraints, max_conditional_entropy_change)
    return ModelQualityAnalysis(
        statistics=statistics,
        constraints=constraints,
        violations=check_model_quality(
            statistics, checked, None if entropy is None else entropy.metrics()
        ),
        skipped=result.skipped,
        bad_records=bad,
        conditional_entropy=entropy,
        checked=checked,
    )


def _confusion(statistics: ModelQualityStatistics) -> dict[str, dict[str, int]] | None:
    found = statistics.metrics.get("confusion_matrix")
    return found if isinstance(found, dict) else None


def load_model_quality_baseline(
    path: str | Path | ObjectPath,
) -> ModelQualityBaseline | ModelQualityConstraints:
    """A baseline read once, for a monitoring run: a directory as a
    :class:`ModelQualityBaseline` carrying its CBPE calibration (``cbpe.json``) when it has
    one, a ``constraints.json`` file as its constraints; a local path or an object-store URL
    (``s3://bucket/baselines/churn``).

    >>> import tempfile
    >>> import pyarrow as pa
    >>> train = pa.table({"y": [0, 1, 1, 0], "p": [0.2, 0.9, 0.7, 0.4]})
    >>> base = suggest_model_quality_baseline(train, "BinaryClassification",
    ...     ground_truth_attribute="y", probability_attribute="p")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     loaded = load_model_quality_baseline(base.save(d))
    >>> loaded.constraints.dumps() == base.constraints.dumps(), loaded.estimator is None
    (True, True)
    """
    return _load(as_location(path), estimator=True)


def _load(p: Location, *, estimator: bool) -> ModelQualityBaseline | ModelQualityConstraints:
    if p.is_dir():
        found = ModelQualityBaseline.load(p)
        if estimator:
            found.estimator = load_cbpe(p)
        return found
    if p.is_file():
        return ModelQualityConstraints.load(p)
    raise FormatError(
        f"{p}: baseline not found; expected a directory holding {CONSTRAINTS_FILE} "
        f"or a {CONSTRAINTS_FILE} file"
    )


def _parts_of(
    baseline: ModelQualityBaseline | ModelQualityConstraints | str | Path | ObjectPath,
) -> tuple[ModelQualityConstraints, ModelQualityStatistics | None]:
    if isinstance(baseline, (str, Path, ObjectPath)):  # no CBPE calibration read
        baseline = _load(as_location(baseline), estimator=False)
    if isinstance(baseline, ModelQualityBaseline):
        return baseline.constraints, baseline.statistics
    return baseline, None
