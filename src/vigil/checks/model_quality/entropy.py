"""The conditional entropy of the label given the prediction, ``H(label | prediction)``, of a
classifier's confusion counts, and its change from the baseline's.

With ``n[a, p]`` the rows of actual label ``a`` predicted ``p`` (``statistics.json``'s
``confusion_matrix``, actual -> predicted), ``N`` their total and ``n[., p]`` a column's total,

    ``H(Y | Y_hat) = sum_p (n[., p] / N) * H(n[., p-column] / n[., p])``,
    ``H(shares) = -sum_a s_a ln s_a``  (natural log: nats; 0 ln 0 = 0),

the label's entropy left once the prediction is known: 0 when each predicted class holds one
actual label (a perfect classifier, or one that always swaps two labels), ``H(Y)`` when the
prediction tells nothing. It grows when the predictions tell less about the labels (a concept
change). A predicted class with no rows adds nothing.

The figures of a window (:class:`ConditionalEntropy`): ``conditional_entropy`` (the window's),
``conditional_entropy_baseline`` (from the baseline's confusion matrix; NaN when the baseline
is a ``constraints.json`` alone) and ``conditional_entropy_change`` (window minus baseline).
The change is constrained one-sided: a violation when it is greater than
``max_conditional_entropy_change`` (:data:`DEFAULT_MAX_CONDITIONAL_ENTROPY_CHANGE`, 0.2 nats,
unless the call or the constraints say otherwise); a fall means the predictions tell more
about the labels. Regression has no confusion counts: no figures (binning a continuous
target would make the figure depend on arbitrary bins).

>>> cm = {"0": {"0": 40, "1": 10}, "1": {"0": 10, "1": 40}}
>>> round(conditional_entropy(cm), 6)  # both columns (0.8, 0.2): H = -(0.8 ln 0.8 + 0.2 ln 0.2)
0.500402
>>> ce = conditional_entropy_figures(cm, {"0": {"0": 45, "1": 5}, "1": {"0": 5, "1": 45}})
>>> round(ce.value, 4), round(ce.baseline, 4), round(ce.change, 4)
(0.5004, 0.3251, 0.1753)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from vigil.errors import ConfigError
from vigil.formats.model_quality import MetricConstraint, ModelQualityConstraints
from vigil.metrics import contract as mc

__all__ = [
    "CONDITIONAL_ENTROPY_CHECK",
    "DEFAULT_MAX_CONDITIONAL_ENTROPY_CHANGE",
    "ConditionalEntropy",
    "conditional_entropy",
    "conditional_entropy_figures",
    "confusion_array",
    "entropy_constraints",
    "max_change_constraint",
]

DEFAULT_MAX_CONDITIONAL_ENTROPY_CHANGE = 0.2
"""Nats: a violation when ``H(label | prediction)`` rises by more than this over the baseline's.
For a balanced classifier at 90% accuracy (0.325 nats) it is a fall to about 79%; the figure is
steep near a perfect classifier, where 100-row windows of an unchanged 97%-accurate model move
by up to 0.16 nats (``tests/test_model_quality_monitor.py``'s scenario), so a tighter default
pages on noise."""

#: the comparison of the change with its maximum, as SageMaker words constraints
CONDITIONAL_ENTROPY_CHECK = "GreaterThanThreshold"

Confusion = Mapping[str, Mapping[str, float]]


def confusion_array(confusion: Confusion | np.ndarray) -> np.ndarray:
    """A confusion matrix (actual -> predicted) as a square float array over the union of the
    labels (absent cells 0); arrays pass through.

    >>> confusion_array({"a": {"a": 2, "b": 1}, "b": {"b": 3}}).tolist()
    [[2.0, 1.0], [0.0, 3.0]]
    """
    if isinstance(confusion, np.ndarray):
        cm = confusion.astype(np.float64)
    else:
        labels = sorted(set(confusion) | {p for row in confusion.values() for p in row})
        cm = np.array(
            [[float(confusion.get(a, {}).get(p, 0)) for p in labels] for a in labels],
            dtype=np.float64,
        ).reshape(len(labels), len(labels))
    if cm.ndim != 2 or (cm.size and (not np.all(np.isfinite(cm)) or cm.min() < 0)):
        raise ConfigError(
            "confusion matrix: expected non-negative finite counts, actual x predicted"
        )
    return cm


def conditional_entropy(confusion: Confusion | np.ndarray) -> float:
    """``H(label | prediction)`` in nats of confusion counts (actual -> predicted); NaN when
    there are no rows.

    >>> conditional_entropy(np.array([[5, 0], [0, 5]])), conditional_entropy(np.zeros((2, 2)))
    (0.0, nan)
    >>> round(conditional_entropy(np.array([[5, 5], [5, 5]])), 6) == round(math.log(2), 6)
    True
    """
    cm = confusion_array(confusion)
    total = float(cm.sum())
    if total <= 0:
        return math.nan
    column = cm.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(column > 0, cm / column, 0.0)
        terms = np.where(shares > 0, -shares * np.log(shares), 0.0)
    return float(np.sum(column / total * terms.sum(axis=0)))


@dataclass(frozen=True)
class ConditionalEntropy:
    """A window's ``H(label | prediction)``, the baseline's and the change (nats; NaN where
    unknown)."""

    value: float
    baseline: float
    change: float

    def metrics(self) -> dict[str, float]:
        """The figures by their metric names
        (:data:`~vigil.metrics.contract.CONDITIONAL_ENTROPY_METRICS`).

        >>> ConditionalEntropy(0.5, 0.25, 0.25).metrics()["conditional_entropy_change"]
        0.25
        """
        return dict(
            zip(mc.CONDITIONAL_ENTROPY_METRICS, (self.value, self.baseline, self.change),
                strict=True)
        )


def conditional_entropy_figures(
    window: Confusion | np.ndarray, baseline: Confusion | np.ndarray | None
) -> ConditionalEntropy:
    """The window's conditional entropy, the baseline's (NaN without a baseline matrix) and
    the change."""
    value = conditional_entropy(window)
    base = math.nan if baseline is None else conditional_entropy(baseline)
    return ConditionalEntropy(value=value, baseline=base, change=value - base)


def max_change_constraint(max_change: float | None) -> float:
    """The maximum change, :data:`DEFAULT_MAX_CONDITIONAL_ENTROPY_CHANGE` for None; a
    ConfigError naming the option for anything but a number >= 0 (``inf`` turns the check off).

    >>> max_change_constraint(None), max_change_constraint(0.1)
    (0.2, 0.1)
    """
    if max_change is None:
        return DEFAULT_MAX_CONDITIONAL_ENTROPY_CHANGE
    if isinstance(max_change, bool) or not isinstance(max_change, (int, float)) or not (
        max_change >= 0
    ):
        raise ConfigError(
            f"max_conditional_entropy_change {max_change!r}: expected a number >= 0 (nats)"
        )
    return float(max_change)


def entropy_constraints(
    constraints: ModelQualityConstraints, max_change: float | None = None
) -> ModelQualityConstraints:
    """``constraints`` with the constraint on ``conditional_entropy_change`` the check applies
    (a copy; ``constraints`` is left as it is): ``max_change`` when given, else the entry the
    constraints already hold (a Vigil extension of ``constraints.json``, which a user may
    write), else :data:`DEFAULT_MAX_CONDITIONAL_ENTROPY_CHANGE`; ``GreaterThanThreshold``.

    >>> c = ModelQualityConstraints.model_validate({"binary_classification_constraints": {}})
    >>> entropy_constraints(c).constraints["conditional_entropy_change"].threshold
    0.2
    >>> "conditional_entropy_change" in c.constraints
    False
    """
    out = constraints.model_copy(deep=True)
    section = out.constraints
    key = mc.CONDITIONAL_ENTROPY_CHANGE
    if max_change is not None or key not in section:
        section[key] = MetricConstraint(
            threshold=max_change_constraint(max_change),
            comparison_operator=CONDITIONAL_ENTROPY_CHECK,
        )
    return out
