"""One explanation job: choose the algorithm, explain every record in chunks (progress, time
budget), aggregate to Clarify's global values.

>>> import numpy as np
>>> from vigil.formats.clarify_explain import ShapConfig
>>> x = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
>>> model = Model(lambda r: r @ np.array([2.0, 1.0]), name="linear")
>>> e = explain_matrix(x, ["a", "b"], model, ShapConfig(baseline=[[0.0, 0.0]]))
>>> e.algorithm, e.exact, e.labels[0].global_shap_values
('kernel_shap', True, {'a': 1.3333333333333333, 'b': 0.6666666666666666})
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from vigil.analysis.explain.baseline import baseline_rows
from vigil.analysis.explain.budget import Budget, Progress
from vigil.analysis.explain.exact import exact_explainer, is_additive
from vigil.analysis.explain.kernel import (
    auto_samples,
    coalitions,
    kernel_shap,
    link,
    rows_per_chunk,
)
from vigil.analysis.explain.model import ExplainedOutputs, Model, Predict
from vigil.errors import ConfigError, EmptyInputError, InputError
from vigil.formats.clarify_explain import (
    PredictorConfig,
    ShapConfig,
    explanations_section,
)

__all__ = ["Algorithm", "Explanation", "LabelExplanation", "aggregate", "explain_matrix"]

Array = npt.NDArray[np.float64]
Algorithm = Literal["auto", "kernel", "exact"]
EXACT_CHUNK = 2048


@dataclass(frozen=True)
class LabelExplanation:
    """One explained output: Clarify's global values, the expected value, local values
    (records, features)."""

    label: str
    global_shap_values: dict[str, float]
    expected_value: float
    local: Array


@dataclass
class Explanation:
    """The result of :func:`explain_matrix`: one :class:`LabelExplanation` per explained
    output, the algorithm used (``kernel_shap``, ``tree_shap``, ``linear_shap``), whether the
    values are exact Shapley values of the game (an exact route, or Kernel SHAP over every
    coalition), the coalitions evaluated (Kernel SHAP) and the baseline rows."""

    feature_names: list[str]
    labels: list[LabelExplanation]
    algorithm: str
    exact: bool
    num_samples: int | None
    baseline: Array
    agg_method: str = "mean_abs"
    notes: list[str] = field(default_factory=list)

    def section(self) -> dict[str, Any]:
        """Clarify's ``explanations`` section."""
        return explanations_section(
            {lab.label: (lab.global_shap_values, lab.expected_value) for lab in self.labels}
        )

    def to_analysis(self) -> dict[str, Any]:
        """A whole ``analysis.json`` holding the explanations."""
        return {"version": "1.0", "explanations": self.section()}

    def local_header(self) -> list[str]:
        """Columns of ``explanations_shap/out.csv``: the features (one label), else
        ``<label>_<feature>`` for each label."""
        if len(self.labels) == 1:
            return list(self.feature_names)
        return [f"{lab.label}_{f}" for lab in self.labels for f in self.feature_names]

    def local_matrix(self) -> Array:
        """The local values as one (records, columns) matrix in :meth:`local_header`'s order."""
        return np.concatenate([lab.local for lab in self.labels], axis=1)


def aggregate(local: Array, method: str) -> Array:
    """Global values from local ones (records, features): Clarify's ``agg_method``.

    >>> aggregate(np.array([[1.0, -2.0], [-3.0, 4.0]]), "mean_abs").tolist()
    [2.0, 3.0]
    >>> aggregate(np.array([[1.0, -2.0], [-3.0, 4.0]]), "mean_sq").tolist()
    [5.0, 10.0]
    """
    if method == "mean_abs":
        return np.asarray(np.abs(local).mean(axis=0), dtype=np.float64)
    if method == "median":
        return np.asarray(np.median(local, axis=0), dtype=np.float64)
    if method == "mean_sq":
        return np.asarray((local**2).mean(axis=0), dtype=np.float64)
    raise ConfigError(f"methods.shap.agg_method {method!r}: expected mean_abs, median, mean_sq")


def _check_inputs(x: Array, names: list[str], shap: ShapConfig) -> None:
    if x.ndim != 2 or x.shape[1] != len(names):
        raise InputError(f"expected a (records, {len(names)}) feature matrix, got {x.shape}")
    if len(x) == 0:
        raise EmptyInputError("no records to explain")
    if len(names) == 0:
        raise InputError("no feature columns to explain")
    if shap.features_to_explain is not None:
        raise ConfigError(
            "analysis_config methods.shap.features_to_explain: not supported yet; leave it out "
            "to explain every feature"
        )
    if shap.baseline is None and np.isnan(x).any():
        row, col = (int(v[0]) for v in np.nonzero(np.isnan(x)))
        raise InputError(
            f"record {row}, column {names[col]!r}: missing value; the K-means baseline needs "
            "complete records (give methods.shap.baseline rows, or fill the value)"
        )


def explain_matrix(
    x: Array,
    feature_names: list[str],
    model: Model | Predict,
    shap: ShapConfig,
    predictor: PredictorConfig | None = None,
    *,
    algorithm: Algorithm = "auto",
    progress: Progress | None = None,
    time_budget: float | None = None,
) -> Explanation:
    """Explain every record (row of ``x``) of ``model``'s output against the baseline.

    ``algorithm``: ``auto`` takes an exact route where one gives the same values (see
    :mod:`vigil.analysis.explain.exact`) and Kernel SHAP otherwise; ``kernel`` forces Kernel
    SHAP; ``exact`` refuses (:class:`~vigil.errors.ConfigError`) where no exact route applies.
    ``progress(done, total)`` is called after each chunk; ``time_budget`` in seconds (None: no
    limit) stops the job with :class:`~vigil.analysis.explain.budget.TimeBudgetError` (see
    :mod:`vigil.analysis.explain.budget`)."""
    x = np.asarray(x, dtype=np.float64)
    names = list(feature_names)
    _check_inputs(x, names, shap)
    m = x.shape[1]
    model = model if isinstance(model, Model) else Model(model, name="model")
    base = baseline_rows(x, shap.baseline, shap.num_clusters, shap.seed, m)
    width = model.outputs(base[:1]).shape[1]
    outputs = ExplainedOutputs.select(model, predictor or PredictorConfig(), width)
    baseline_value = link(outputs(base).mean(axis=0), shap.use_logit)
    notes: list[str] = []
    route = exact_explainer(outputs, base, shap.use_logit) if algorithm != "kernel" else None
    if route is None and algorithm == "exact":
        raise ConfigError(
            f"{model.name}: no exact algorithm gives the same values for this model and "
            "quantity; use algorithm 'auto' or 'kernel'"
        )
    local: Array | None = None
    if route is not None:
        budget = Budget(len(x), time_budget, progress, what=f"{route.name} of {model.name}")
        parts: list[Array] = []
        expected = baseline_value
        for start in range(0, len(x), EXACT_CHUNK):
            chunk = x[start : start + EXACT_CHUNK]
            phi, expected = route.run(chunk)
            if start == 0:
                explained = link(outputs(chunk[:64], first_row=start), shap.use_logit)
                if not is_additive(
                    phi[:64], expected, explained, baseline_value, use_logit=shap.use_logit
                ):
                    notes.append(f"{route.name} did not add up to the model's output; "
                                 "fell back to kernel SHAP")
                    if algorithm == "exact":
                        raise ConfigError(f"{model.name}: {notes[-1]}")
                    route = None
                    break
            parts.append(phi)
            budget.done(len(chunk))
        if route is not None:
            local = np.concatenate(parts, axis=0)
    if route is None:
        samples = shap.num_samples or auto_samples(m)
        z, w = coalitions(m, samples, np.random.default_rng(shap.seed))
        exact = len(z) == 2**m - 2
        budget = Budget(len(x), time_budget, progress, what=f"kernel SHAP of {model.name}")
        step = rows_per_chunk(len(z), len(base), m)
        first = max(1, min(step, math.ceil(len(x) / 100)))
        parts = []
        start = 0
        while start < len(x):
            size = first if start == 0 else step
            chunk = x[start : start + size]
            phi, _ = kernel_shap(
                partial(outputs, first_row=start),
                chunk, base, z, w, use_logit=shap.use_logit, expected=baseline_value,
            )
            parts.append(phi)
            start += len(chunk)
            budget.done(len(chunk))
        local = np.concatenate(parts, axis=0)
        expected = baseline_value
        algorithm_name, num = "kernel_shap", len(z)
    else:
        algorithm_name, num, exact = route.name, None, True
    assert local is not None
    labels = [
        LabelExplanation(
            label,
            dict(zip(names, aggregate(local[:, :, i], shap.agg_method).tolist())),
            float(expected[i]),
            local[:, :, i],
        )
        for i, label in enumerate(outputs.labels)
    ]
    return Explanation(names, labels, algorithm_name, exact, num, base, shap.agg_method, notes)
