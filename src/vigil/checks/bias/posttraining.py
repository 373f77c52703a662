"""Clarify's post-training bias metrics (labels and predicted labels) from the counts of one
facet value, with smclarify's signs, messages and infinities (CDDPL and FT: their own modules).

>>> from vigil.checks.bias.counts import Counts, GroupCounts
>>> c = Counts(a=GroupCounts(tp=3, fp=1, fn=1, tn=5), d=GroupCounts(tp=1, fp=0, fn=2, tn=2))
>>> DPPL(c), round(DI(c), 4), round(RD(c), 4), TE(c)
(0.2, 0.5, 0.4167, inf)
"""

from __future__ import annotations

from vigil.checks.bias.counts import INFINITY, Counts, divide
from vigil.checks.bias.errors import BiasMetricError
from vigil.checks.bias.pretraining import dpl


def _require_both(c: Counts, prefix: str = "", negated: str = "Negated Facet set is empty") -> None:
    if c.d.n == 0:
        raise BiasMetricError(f"{prefix}Facet set is empty")
    if c.a.n == 0:
        raise BiasMetricError(f"{prefix}{negated}")


def _difference(x: float, y: float) -> float:
    """x - y, 0 when both are +inf (smclarify's rule)."""
    if x == y and x == INFINITY:
        return 0.0
    return x - y


def DPPL(c: Counts) -> float:
    """Difference in Positive Proportions in Predicted Labels (DPPL)"""
    return dpl(c.a.n, c.a.n1hat, c.d.n, c.d.n1hat)


def DI(c: Counts) -> float:
    """Disparate Impact (DI)"""
    if c.a.n == 0:
        raise BiasMetricError("Negated facet set is empty")
    qa = c.a.n1hat / c.a.n
    if c.d.n == 0:
        raise BiasMetricError("Facet set is empty")
    qd = c.d.n1hat / c.d.n
    return divide(qd, qa)


def DCA(c: Counts) -> float:
    """Difference in Conditional Acceptance (DCA)"""
    _require_both(c, "DCO: ")
    return _difference(divide(c.a.n1, c.a.n1hat), divide(c.d.n1, c.d.n1hat))


def DCR(c: Counts) -> float:
    """Difference in Conditional Rejection (DCR)"""
    _require_both(c, "DCO: ")
    return _difference(divide(c.d.n0, c.d.n0hat), divide(c.a.n0, c.a.n0hat))


def RD(c: Counts) -> float:
    """Recall Difference (RD)"""
    _require_both(c, "DLA: ")
    return _difference(divide(c.a.tp, c.a.tp + c.a.fn), divide(c.d.tp, c.d.tp + c.d.fn))


def SD(c: Counts) -> float:
    """Specificity Difference (SD)"""
    _require_both(c, "DLA: ")
    return _difference(divide(c.d.tn, c.d.tn + c.d.fp), divide(c.a.tn, c.a.tn + c.a.fp))


def DAR(c: Counts) -> float:
    """Difference in Acceptance Rates (DAR)"""
    _require_both(c, "DLR: ")
    return _difference(divide(c.a.tp, c.a.n1hat), divide(c.d.tp, c.d.n1hat))


def DRR(c: Counts) -> float:
    """Difference in Rejection Rates (DRR)"""
    _require_both(c, "DLR: ")
    return _difference(divide(c.d.tn, c.d.n0hat), divide(c.a.tn, c.a.n0hat))


def AD(c: Counts) -> float:
    """Accuracy Difference (AD)"""
    _require_both(c)
    return _difference(divide(c.a.tp + c.a.tn, c.a.n), divide(c.d.tp + c.d.tn, c.d.n))


def TE(c: Counts) -> float:
    """Treatment Equality (TE)"""
    _require_both(c)
    return _difference(divide(c.d.fn, c.d.fp), divide(c.a.fn, c.a.fp))


def GE(c: Counts) -> float:
    """Generalized Entropy (GE)"""
    tp, fp, fn, tn = c.a.tp + c.d.tp, c.a.fp + c.d.fp, c.a.fn + c.d.fn, c.a.tn + c.d.tn
    n = tp + fp + fn + tn
    if n <= 0:
        raise BiasMetricError("dataset must be non-empty")
    # benefit = prediction - label + 1: 0 for a false negative, 1 right, 2 a false positive
    mean = (tp + tn + 2 * fp) / n
    if mean == 0:
        raise BiasMetricError(
            "All predicted labels are false negatives. There should be at least one prediction "
            "that is not false negative."
        )
    total = -fn + (tp + tn) * ((1 / mean) ** 2 - 1) + fp * ((2 / mean) ** 2 - 1)
    return total / (n * 2 * (2 - 1))
