"""Exact algorithms, used only where they explain the same quantity as Kernel SHAP.

The quantity is v(S) = link(mean over baseline rows b of f(x_S, b)). An exact algorithm
counts only where it gives that game's Shapley values:

- **linear SHAP** (closed form, phi_j = w_j (x_j - mean b_j)): a linear regressor's
  prediction; a binary logistic regression's log-odds with ``use_logit`` and one baseline row
  (with several rows the logit of a mean of probabilities is not linear).
- **tree SHAP** (the ``shap`` library, interventional against the baseline rows): a random
  forest's (or one tree's) probability or a tree regressor's prediction (an average or sum of
  trees, so linear in the trees: exact), and a binary gradient-boosting classifier's
  (scikit-learn, XGBoost, LightGBM) margin with ``use_logit`` and one baseline row.
  ``shap``'s ``model_output="probability"`` is not used: on a gradient-boosting model it is not
  the Shapley value of the probability (a few per cent off; see the tests).

Every exact result is checked on the first chunk: expected value plus the sum of the local
values must give the model's own explained output for every record, and the expected value the
baseline's; where it does not (another objective, a link function) the job falls back to
Kernel SHAP. ``exact_explainer`` returns None where no exact route applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vigil.analysis.explain.kernel import link
from vigil.analysis.explain.model import ExplainedOutputs

__all__ = ["ExactExplainer", "exact_explainer", "is_additive"]

Array = npt.NDArray[np.float64]

_FORESTS = {
    "RandomForestClassifier", "ExtraTreesClassifier", "DecisionTreeClassifier",
    "ExtraTreeClassifier",
}
_TREE_REGRESSORS = {
    "RandomForestRegressor", "ExtraTreesRegressor", "DecisionTreeRegressor",
    "ExtraTreeRegressor", "GradientBoostingRegressor", "XGBRegressor", "LGBMRegressor",
}
_BOOSTED_CLASSIFIERS = {"GradientBoostingClassifier", "XGBClassifier", "LGBMClassifier"}


@dataclass(frozen=True)
class ExactExplainer:
    """An exact route: ``name`` (``tree_shap`` / ``linear_shap``) and a function from records
    to (local values (n, features, outputs), expected value (outputs,))."""

    name: str
    run: Callable[[Array], tuple[Array, Array]]


def _kind(native: object) -> tuple[str, str]:
    cls = type(native)
    return cls.__module__.split(".")[0], cls.__name__


def _signs(outputs: ExplainedOutputs) -> Array | None:
    """For a binary classifier's margin: +1 for column 1, -1 for column 0."""
    if any(c not in (0, 1) for c in outputs.columns):
        return None
    return np.array([1.0 if c == 1 else -1.0 for c in outputs.columns])


def _linear(outputs: ExplainedOutputs, baseline: Array, use_logit: bool) -> ExactExplainer | None:
    model = outputs.model
    native = model.native
    if not type(native).__module__.startswith("sklearn.linear_model") or not hasattr(
        native, "coef_"
    ):
        return None
    w = np.atleast_2d(np.asarray(native.coef_, dtype=np.float64))
    if model.output == "predict" and not use_logit:
        weights = w[outputs.columns] if len(w) > 1 else w  # (k, m)
    elif model.output == "predict_proba" and use_logit and len(baseline) == 1 and len(w) == 1:
        signs = _signs(outputs)
        if signs is None:
            return None
        weights = signs[:, None] * w
    else:
        return None
    centre = baseline.mean(axis=0)

    def run(records: Array) -> tuple[Array, Array]:
        phi = (records - centre)[:, :, None] * weights.T[None, :, :]
        return phi, link(outputs(baseline).mean(axis=0), use_logit)

    return ExactExplainer("linear_shap", run)


def _tree(outputs: ExplainedOutputs, baseline: Array, use_logit: bool) -> ExactExplainer | None:
    model = outputs.model
    _, name = _kind(model.native)
    signs: Array | None = None
    averaged = (name in _FORESTS and model.output == "predict_proba") or (
        name in _TREE_REGRESSORS and model.output == "predict"
    )
    if averaged and not use_logit:
        pass
    elif (
        name in _BOOSTED_CLASSIFIERS and model.output == "predict_proba" and use_logit
        and len(baseline) == 1 and len(getattr(model.native, "classes_", ())) == 2
    ):
        signs = _signs(outputs)
        if signs is None:
            return None
    else:
        return None
    try:
        # lazy: shap (and numba, ~1 s) loads only for a tree model, and is an optional extra
        import shap
    except ImportError:
        return None
    explainer = shap.TreeExplainer(
        model.native, data=baseline, feature_perturbation="interventional", model_output="raw"
    )
    columns = outputs.columns

    def run(records: Array) -> tuple[Array, Array]:
        values = np.asarray(explainer.shap_values(records, check_additivity=False))
        expected = np.atleast_1d(np.asarray(explainer.expected_value, dtype=np.float64))
        if values.ndim == 2:  # one output: a regressor, or a boosted classifier's margin
            values = values[:, :, None]
        if signs is not None:
            return values[:, :, [0] * len(signs)] * signs, expected[[0] * len(signs)] * signs
        if values.shape[2] == 1:
            return values, expected
        return values[:, :, columns], expected[columns]

    return ExactExplainer("tree_shap", run)


def exact_explainer(
    outputs: ExplainedOutputs, baseline: Array, use_logit: bool
) -> ExactExplainer | None:
    """The exact route for this model and quantity, or None (then Kernel SHAP)."""
    if outputs.model.native is None:
        return None
    return _linear(outputs, baseline, use_logit) or _tree(outputs, baseline, use_logit)


def is_additive(
    phi: Array,
    expected: Array,
    explained: Array,
    baseline_value: Array,
    tol: float = 1e-6,
    *,
    use_logit: bool = False,
) -> bool:
    """Whether ``expected + sum(phi)`` is the explained output of every record and
    ``expected`` the baseline's. With ``use_logit`` the comparison is made on probabilities
    (the inverse logit of both sides): a float32 probability near 0 or 1 has a log-odds of
    little precision, so comparing log-odds would refuse exact results."""
    total = expected[None, :] + phi.sum(axis=1)
    pairs = [(total, explained), (expected, baseline_value)]
    if use_logit:
        pairs = [(_sigmoid(a), _sigmoid(b)) for a, b in pairs]
    scale = 1.0 + float(np.abs(pairs[0][1]).max(initial=0.0))
    return all(np.allclose(a, b, atol=tol * scale, rtol=0) for a, b in pairs)


def _sigmoid(values: Array) -> Array:
    return np.asarray(1.0 / (1.0 + np.exp(-values)), dtype=np.float64)
