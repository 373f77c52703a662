"""Baselines: statistics and suggested constraints of training data."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigil.analysis.engines import Engine
from vigil.analysis.profiling import profile_input
from vigil.checks.anomaly.options import ANOMALY_MODEL_FILE, MAX_FIT_ROWS, AnomalyOptions
from vigil.checks.suggest import ConstraintOptions, suggest_constraints
from vigil.errors import ConfigError, FormatError
from vigil.formats.constraints import Constraints
from vigil.formats.statistics import Statistics
from vigil.io.readers import BadRecords
from vigil.locations import Location, ObjectPath, as_location

if TYPE_CHECKING:
    from vigil.checks.anomaly.model import AnomalyModel

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"


@dataclass
class Baseline:
    """A data-quality baseline: ``statistics.json`` and ``constraints.json``, and
    ``anomaly_model.json`` when it carries an outlier model."""

    statistics: Statistics
    constraints: Constraints
    bad_records: BadRecords = field(default_factory=BadRecords)
    anomaly_model: AnomalyModel | None = None

    def save(self, directory: str | Path | ObjectPath) -> Location:
        """Write statistics.json, constraints.json (and anomaly_model.json) into ``directory``."""
        d = as_location(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.statistics.save(d / STATISTICS_FILE)
        self.constraints.save(d / CONSTRAINTS_FILE)
        if self.anomaly_model is not None:
            self.anomaly_model.save(d / ANOMALY_MODEL_FILE)
        return d

    @classmethod
    def load(cls, directory: str | Path | ObjectPath) -> Baseline:
        """Read a baseline directory (Vigil's or SageMaker's files as they are)."""
        d = as_location(directory)
        if not d.is_dir():
            raise FormatError(
                f"{d}: baseline directory not found; expected a directory "
                f"holding {STATISTICS_FILE} and {CONSTRAINTS_FILE}"
            )
        stats_path = d / STATISTICS_FILE
        if not stats_path.is_file():
            raise FormatError(
                f"{stats_path}: missing; a baseline directory needs {STATISTICS_FILE}"
            )
        cons_path = d / CONSTRAINTS_FILE
        if not cons_path.is_file():
            raise FormatError(
                f"{cons_path}: missing; a baseline directory needs {CONSTRAINTS_FILE} next to "
                f"{STATISTICS_FILE} (both are written by 'vigil baseline')"
            )
        statistics = Statistics.load(stats_path)
        constraints = Constraints.load(cons_path)
        model_path = d / ANOMALY_MODEL_FILE
        model = None
        if model_path.is_file():
            from vigil.checks.anomaly.model import AnomalyModel  # lazy: only with a model

            model = AnomalyModel.load(model_path)
        return cls(statistics=statistics, constraints=constraints, anomaly_model=model)


def _anomaly_options(d: dict[str, Any]) -> AnomalyOptions:
    known = {f.name for f in fields(AnomalyOptions)}
    unknown = set(d) - known
    if unknown:
        raise ConfigError(
            f"unknown anomaly option(s): {', '.join(sorted(unknown))}; "
            f"expected any of {', '.join(sorted(known))}"
        )
    return AnomalyOptions(**d)


def suggest_baseline(
    data: Any,
    *,
    format: str = "auto",
    header: bool = True,
    capture_content: str = "input",
    progress: Any = None,
    delimiter: str | None = None,
    encoding: str = "utf-8",
    anomaly: bool | AnomalyOptions | dict[str, Any] = False,
    engine: str | Engine | None = None,
    spark_master: str | None = None,
    **options: Any,
) -> Baseline:
    """Profile training data and suggest constraints.

    ``data`` is a pyarrow/pandas/Polars table, a Spark DataFrame, or paths (files,
    directories, globs). ``engine``: ``local`` or ``spark`` (None: ``spark`` for a Spark
    DataFrame, else ``local``); ``spark_master``: the Spark master URL (default
    ``$VIGIL_SPARK_MASTER``, else ``local[*]``).
    ``options`` are the fields of :class:`~vigil.checks.suggest.ConstraintOptions`
    (thresholds, methods, per-feature drift methods, multiple-testing correction...).
    ``anomaly``: True (or :class:`~vigil.checks.anomaly.AnomalyOptions`: method,
    contamination or quantile, tolerated share) also fits an outlier model on the data's
    numeric and string features (``anomaly_model.json``).

    >>> import pyarrow as pa
    >>> b = suggest_baseline(pa.table({"x": [1.0, 2.0, 3.0]}), comparison_threshold=0.2)
    >>> b.statistics.features[0].numerical_statistics.mean
    2.0
    >>> b.constraints.monitoring_config.distribution_constraints.comparison_threshold
    0.2
    """
    known = {f.name for f in fields(ConstraintOptions)}
    unknown = set(options) - known
    if unknown:
        raise ConfigError(
            f"unknown baseline option(s): {', '.join(sorted(unknown))}; "
            f"expected any of {', '.join(sorted(known))}"
        )
    opts = ConstraintOptions(**options)
    opts.validate()
    if isinstance(anomaly, dict):  # a vigil.yaml baseline's options: anomaly: {method: ...}
        anomaly = _anomaly_options(anomaly)
    anomaly_opts = anomaly if isinstance(anomaly, AnomalyOptions) else AnomalyOptions()
    if anomaly:
        anomaly_opts.validate()
    sample = None
    if anomaly:
        from vigil.checks.anomaly.sample import TableSample  # lazy: only with an outlier model

        sample = TableSample(MAX_FIT_ROWS, seed=anomaly_opts.random_state)
    profile, bad = profile_input(
        data,
        format=format,
        header=header,
        capture_content=capture_content,
        progress=progress,
        delimiter=delimiter,
        encoding=encoding,
        engine=engine,
        spark_master=spark_master,
        on_table=None if sample is None else sample.update,
    )
    statistics = profile.to_statistics()
    model = None
    if sample is not None:
        # lazy: the outlier model (scikit-learn) loads only when one is fitted
        from vigil.checks.anomaly.model import fit_anomaly_model

        types = {f.name: f.inferred_type for f in statistics.features}
        model = fit_anomaly_model(
            sample.table(),
            numeric=[n for n, t in types.items() if t in ("Integral", "Fractional")],
            categorical=[n for n, t in types.items() if t == "String"],
            options=anomaly_opts,
        )
    return Baseline(
        statistics=statistics,
        constraints=suggest_constraints(statistics, opts),
        bad_records=bad,
        anomaly_model=model,
    )
