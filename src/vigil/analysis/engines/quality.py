"""Model-quality metrics from mergeable partition summaries (the Spark engine's model quality).

Each partition reads its rows with Vigil's own readers, drops incomplete rows as the local
path does (counting them per reason) and keeps only what merges exactly:

* classifiers: the distinct rows ``(truth, prediction[, score])`` with their counts, the
  whole data's and those of five Bernoulli(0.8) subsamples (the local path's deviation
  method); confusion counts and the ROC/PR curves of weighted distinct rows equal the
  unweighted rows' exactly (scikit-learn's ``sample_weight``);
* regression: per data set and subsample, the exact sums of ``|e|`` and ``e**2`` and the
  (count, mean, M2) moments of the truth, merged by Spark's formula.

The driver merges the summaries in unit order and computes SageMaker's metrics: the values
equal the local engine's (regression within float rounding); the deviations use the same
method on per-partition random draws (seeded by the seed and the unit), so they differ from
the local path's draws.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from vigil.analysis.engines.options import ReadOptions
from vigil.analysis.engines.units import Unit, ipc_table, unit_tables
from vigil.checks.model_quality.binary import binary_scalars
from vigil.checks.model_quality.compute import assemble_metrics
from vigil.checks.model_quality.curves import MAX_CURVE_POINTS, curves
from vigil.checks.model_quality.deviation import (
    MIN_ROWS_FOR_STD,
    STD_DDOF,
    SUBSAMPLE_FRACTION,
    SUBSAMPLES,
)
from vigil.checks.model_quality.inputs import as_array, missing, positive_mask, to_float
from vigil.checks.model_quality.multiclass import encode, label_key, multiclass_scalars
from vigil.checks.model_quality.result import ModelQualityResult
from vigil.errors import ConfigError, EmptyInputError, InputError, VigilError
from vigil.io.readers import MAX_EXAMPLES, BadRecords
from vigil.profile.column import _SCALE, Moments, exact_sum

log = logging.getLogger(__name__)

RUNS = 1 + SUBSAMPLES  # the whole data set, then the subsamples


@dataclass(frozen=True)
class QualitySpec:
    """The columns and problem of a model-quality run, as a task needs them."""

    problem_type: str
    ground_truth: str
    inference: str | None = None
    probability: str | None = None
    seed: int = 0


@dataclass
class QualityPart:
    """One partition's mergeable summary (or the Vigil error it met)."""

    index: int
    skipped: dict[str, int] = field(default_factory=dict)
    bad: BadRecords = field(default_factory=BadRecords)
    rows: dict[str, np.ndarray] | None = None  # classifiers: distinct t, p[, s]
    weights: np.ndarray | None = None  # counts of each distinct row, per run
    sums: list[tuple[Moments, int, int]] | None = None  # regression, per run
    error: tuple[type[VigilError], str] | None = None


def quality_unit(
    source: Unit | tuple[int, bytes], options: ReadOptions, spec: QualitySpec
) -> QualityPart:
    """Read one unit (a file or row group, or an Arrow IPC slice of a table) and summarize
    it; a Vigil error comes back in the result."""
    bad = BadRecords()
    if isinstance(source, Unit):
        return quality_tables(source.index, unit_tables(source, options, bad), options, spec,
                              bad)
    return quality_tables(source[0], iter([ipc_table(source[1])]), options, spec, bad)


def quality_tables(
    index: int, tables: Iterator[pa.Table], options: ReadOptions, spec: QualitySpec,
    bad: BadRecords | None = None,
) -> QualityPart:
    """Summarize the rows of ``tables`` (one unit, or one partition of a Spark DataFrame) as
    unit ``index``; a Vigil error (a missing column...) comes back in the result."""
    bad = bad if bad is not None else BadRecords()
    try:
        roles = {
            "ground_truth_attribute": spec.ground_truth,
            "inference_attribute": spec.inference,
            "probability_attribute": spec.probability,
        }
        cols = read_columns(tables, roles, options.header)
        part = QualityPart(index) if cols is None else summarize(index, cols, spec)
    except VigilError as exc:
        return QualityPart(index, bad=bad, error=(type(exc), exc.message))
    part.bad = bad
    return part


def read_columns(
    tables: Any, columns: dict[str, str | None], header: bool = True
) -> dict[str, np.ndarray] | None:
    """The named columns of a stream of tables as NumPy arrays (None: no table).

    ``columns`` maps a role (``ground_truth_attribute``...) to a column name; roles mapped to
    None are left out. A missing column is an error naming the role, the column and the
    columns found.
    """
    wanted = {role: col for role, col in columns.items() if col is not None}
    parts: dict[str, list[np.ndarray]] = {role: [] for role in wanted}
    seen = False
    for table in tables:
        seen = True
        for role, col in wanted.items():
            if col not in table.column_names:
                found = ", ".join(table.column_names[:12])
                hint = " (a CSV without a header has columns _c0, _c1, ...)" if not header else ""
                raise ConfigError(
                    f"{role.replace('_', ' ')} column {col!r} not found in the data; "
                    f"found columns {found}{hint}"
                )
            parts[role].append(_column_numpy(table.column(col)))
    if not seen:
        return None
    return {role: _concat(chunks) for role, chunks in parts.items()}


def _column_numpy(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_integer(column.type) and column.null_count:
        column = column.cast(pa.float64())
    return np.asarray(column.to_numpy())


def summarize(index: int, cols: dict[str, np.ndarray], spec: QualitySpec) -> QualityPart:
    """The summary of one partition's columns (by role: ``ground_truth_attribute``,
    ``inference_attribute``, ``probability_attribute``)."""
    part = QualityPart(index)
    t = as_array(cols["ground_truth_attribute"], "ground truth")
    p, s = cols.get("inference_attribute"), cols.get("probability_attribute")
    p = None if p is None else as_array(p, "predictions")
    s = None if s is None else to_float(as_array(s, "scores"), "scores")
    if spec.problem_type == "Regression":
        if p is None:
            raise InputError("predictions: none given; regression needs a predicted value per row")
        t, p = to_float(t, "ground truth"), to_float(p, "predictions")
    keep = np.ones(len(t), dtype=bool)
    for reason, arr in (
        ("ground truth missing", t),
        ("prediction missing", p),
        ("score missing or NaN", s),
    ):
        if arr is None:
            continue
        bad = missing(arr) & keep
        if bad.any():
            part.skipped[reason] = int(bad.sum())
            keep &= ~bad
    t, p, s = t[keep], None if p is None else p[keep], None if s is None else s[keep]
    rng = np.random.default_rng([spec.seed, index])
    runs = np.ones((len(t), RUNS), dtype=np.int64)
    for j in range(1, RUNS):
        runs[:, j] = rng.random(len(t)) < SUBSAMPLE_FRACTION
    if spec.problem_type == "Regression":
        assert p is not None
        part.sums = [_regression_sums(t, p, runs[:, j] > 0) for j in range(RUNS)]
        return part
    rows = {"t": t} | ({} if p is None else {"p": p}) | ({} if s is None else {"s": s})
    part.rows, part.weights = _distinct(rows, runs)
    return part


def _regression_sums(t: np.ndarray, p: np.ndarray, keep: np.ndarray) -> tuple[Moments, int, int]:
    truth = Moments()
    truth.update(t[keep])
    e = t[keep] - p[keep]
    return truth, exact_sum(np.abs(e)), exact_sum(e * e)


def _distinct(rows: dict[str, np.ndarray], runs: np.ndarray) -> tuple[dict[str, Any], Any]:
    """Distinct rows with their summed counts (the rows as they are when Arrow cannot group
    their values)."""
    try:
        table = pa.table(
            {**{k: pa.array(v) for k, v in rows.items()}}
            | {f"w{j}": pa.array(runs[:, j]) for j in range(RUNS)}
        )
        grouped = table.group_by(list(rows), use_threads=False).aggregate(
            [(f"w{j}", "sum") for j in range(RUNS)]
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return rows, runs
    out = {k: grouped.column(k).to_numpy(zero_copy_only=False) for k in rows}
    weights = np.column_stack([grouped.column(f"w{j}_sum").to_numpy() for j in range(RUNS)])
    return out, weights


def _concat(chunks: list[np.ndarray]) -> np.ndarray:
    if len({c.dtype.kind for c in chunks}) == 1:
        return np.concatenate(chunks)
    return np.concatenate([c.astype(object) for c in chunks])


def _std(runs: list[dict[str, float]], n: float) -> dict[str, float | str]:
    if n < MIN_ROWS_FOR_STD:
        return {}
    out: dict[str, float | str] = {}
    for key in runs[0]:
        vals = np.array([r[key] for r in runs], dtype=np.float64)
        out[key] = float(np.std(vals, ddof=STD_DDOF)) if np.isfinite(vals).all() else "NaN"
    return out


def _regression(parts: list[QualityPart]) -> tuple[list[dict[str, float]], float]:
    runs = []
    for j in range(RUNS):
        truth, abs_sum, sq_sum = Moments(), 0, 0
        for part in parts:
            assert part.sums is not None
            m, a, q = part.sums[j]
            truth.merge(m)
            abs_sum += a
            sq_sum += q
        n = truth.count
        ss_res = sq_sum / (1 << _SCALE)
        ss_tot = max(truth.m2, 0.0)
        if n < 2:
            r2 = math.nan
        elif ss_tot == 0.0:
            r2 = 1.0 if ss_res == 0.0 else 0.0  # scikit-learn's force_finite
        else:
            r2 = 1.0 - ss_res / ss_tot
        mse = ss_res / n if n else math.nan
        runs.append(
            {"mae": abs_sum / (1 << _SCALE) / n if n else math.nan, "mse": mse,
             "rmse": math.sqrt(mse), "r2": r2}
        )  # fmt: skip
    return runs, float(sum(p.sums[0][0].count for p in parts if p.sums is not None))


def merge_quality(
    parts: list[QualityPart],
    spec: QualitySpec,
    *,
    positive_label: Any = None,
    probability_threshold: float = 0.5,
    labels: Any = None,
    max_curve_points: int | None = MAX_CURVE_POINTS,
    default_positive: Any = None,
) -> tuple[ModelQualityResult, BadRecords]:
    """SageMaker's metrics of the merged summaries (``parts`` in unit order) and the bad
    records; ``default_positive`` picks the positive label from the truth values when none
    is given (the local path's rule)."""
    bad, skipped = BadRecords(), dict[str, int]()
    for part in parts:
        if part.error is not None:
            cls, message = part.error
            raise cls(message)
        bad.count += part.bad.count
        bad.examples.extend(part.bad.examples[: max(0, MAX_EXAMPLES - len(bad.examples))])
        for reason, count in part.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + count
    live = [p for p in parts if (p.weights is not None and len(p.weights)) or p.sums]
    ptype = spec.problem_type
    structured: dict[str, Any] = {}
    if ptype == "Regression":
        runs, n = _regression(live) if live else ([], 0.0)
    else:
        rows = [p.rows for p in live if p.rows is not None]
        w = np.concatenate([p.weights for p in live if p.weights is not None]) if live else None
        if w is None or not len(w) or w[:, 0].sum() == 0:
            runs, n = [], 0.0
        else:
            t = _concat([r["t"] for r in rows])
            p = _concat([r["p"] for r in rows]) if "p" in rows[0] else None
            s = _concat([r["s"] for r in rows]).astype(np.float64) if "s" in rows[0] else None
            runs, n = _classifier(
                ptype, t, p, s, w, structured, skipped, positive_label, probability_threshold,
                labels, max_curve_points, default_positive,
            )  # fmt: skip
    if not runs:
        dropped = f" ({', '.join(f'{n} {r}' for r, n in skipped.items())})" if skipped else ""
        raise EmptyInputError(
            f"no rows to evaluate{dropped}: expected at least one row with a ground-truth label"
        )
    values, stds = runs[0], _std(runs[1:], n)
    metrics = assemble_metrics(ptype, structured, values, stds)
    result = ModelQualityResult(ptype, metrics, item_count=int(n), skipped=skipped)
    return result, bad


def _classifier(
    ptype: str,
    t: np.ndarray,
    p: np.ndarray | None,
    s: np.ndarray | None,
    w: np.ndarray,
    structured: dict[str, Any],
    skipped: dict[str, int],
    positive_label: Any,
    threshold: float,
    labels: Any,
    max_curve_points: int | None,
    default_positive: Any,
) -> tuple[list[dict[str, float]], float]:
    if ptype == "BinaryClassification":
        if positive_label is None:
            positive_label = default_positive(t) if default_positive is not None else 1
        tb = positive_mask(t, positive_label)
        if p is None:
            assert s is not None
            pb = s >= threshold
        else:
            pb = positive_mask(p, positive_label)
        weight = w[:, 0].astype(np.float64)
        full, cm = binary_scalars(tb, pb, s, auc=False, weights=weight)
        cm = np.rint(cm).astype(np.int64)
        structured["confusion_matrix"] = {
            "0": {"0": int(cm[0, 0]), "1": int(cm[0, 1])},
            "1": {"0": int(cm[1, 0]), "1": int(cm[1, 1])},
        }
        score = pb.astype(np.float64) if s is None else s
        roc, pr, full["auc"] = curves(tb, score, max_curve_points, weights=weight)
        structured["receiver_operating_characteristic_curve"] = roc
        structured["precision_recall_curve"] = pr
        runs = [full]
        for j in range(1, RUNS):
            kept = w[:, j] > 0
            sub = None if s is None else s[kept]
            runs.append(
                binary_scalars(tb[kept], pb[kept], sub, weights=w[kept, j].astype(float))[0]
            )
        return runs, float(weight.sum())
    assert p is not None
    tc, pc, vocab, ok = encode(t, p, labels)
    if not ok.all():
        skipped["label not in labels"] = int(w[~ok, 0].sum())
        tc, pc, w = tc[ok], pc[ok], w[ok]
        if not len(tc) or w[:, 0].sum() == 0:
            raise EmptyInputError(
                f"no rows to evaluate: no ground truth and prediction among labels {vocab}"
            )
    k = len(vocab)
    full, cm = multiclass_scalars(tc, pc, k, weights=w[:, 0].astype(np.float64))
    structured["confusion_matrix"] = {
        label_key(a): {label_key(b): int(cm[i, j]) for j, b in enumerate(vocab)}
        for i, a in enumerate(vocab)
    }
    runs = [full]
    for j in range(1, RUNS):
        runs.append(multiclass_scalars(tc, pc, k, weights=w[:, j].astype(np.float64))[0])
    return runs, float(w[:, 0].sum())


def evaluate_on_spark(
    engine: Any,
    data: Any,
    options: ReadOptions,
    spec: QualitySpec,
    positive_label: Any,
    probability_threshold: float,
    labels: Any,
    default_positive: Any,
) -> tuple[ModelQualityResult, BadRecords]:
    """The metrics of ``data`` from the summaries ``engine`` (the Spark engine) computes,
    merged here."""
    if not 0.0 <= probability_threshold <= 1.0:
        raise ConfigError(f"probability threshold {probability_threshold} is outside [0, 1]")
    result, bad = merge_quality(
        engine.model_quality(data, options, spec),
        spec,
        positive_label=positive_label,
        probability_threshold=probability_threshold,
        labels=labels,
        default_positive=default_positive,
    )
    if result.skipped:
        log.warning("model quality: %d row(s) skipped: %s", result.skipped_count, result.skipped)
    return result, bad
