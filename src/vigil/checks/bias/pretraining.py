"""Clarify's pre-training bias metrics (labels only), from the counts of one facet value.

Each function raises ``ValueError`` with smclarify's message where smclarify does; the report
turns that into the metric's ``error``. KL, JS, LP, TVD and KS compare the distributions of the
*boolean* label in facet a and facet d, keeping only the categories whose probability is
non-zero in both (smclarify's ``pdfs_aligned_nonzero``).

>>> from vigil.checks.bias.counts import Counts, GroupCounts
>>> c = Counts(a=GroupCounts(tp=4, fp=0, fn=0, tn=6), d=GroupCounts(tp=0, fp=0, fn=0, tn=5))
>>> round(CI(c), 4), round(DPL(c), 4), round(KL(c), 4), round(LP(c), 4)
(0.3333, 0.4, -0.3065, 0.4)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from vigil.checks.bias.counts import Counts
from vigil.checks.bias.errors import BiasMetricError

Pdf = npt.NDArray[np.float64]


def CI(c: Counts) -> float:
    """Class Imbalance (CI)"""
    pos, neg = c.d.n, c.a.n
    if neg == 0:
        raise BiasMetricError(
            "CI: negated facet set is empty. Check that x[~facet] has non-zero length."
        )
    if pos == 0:
        raise BiasMetricError("CI: facet set is empty. Check that x[facet] has non-zero length.")
    return float(neg - pos) / (pos + neg)


def dpl(na: int, na_pos: int, nd: int, nd_pos: int) -> float:
    """q_a - q_d with smclarify's ``common.DPL`` messages."""
    if na == 0:
        raise BiasMetricError("Negative facet set is empty.")
    if nd == 0:
        raise BiasMetricError("Facet set is empty.")
    return na_pos / na - nd_pos / nd


def DPL(c: Counts) -> float:
    """Difference in Positive Proportions in Labels (DPL)"""
    return dpl(c.a.n, c.a.n1, c.d.n, c.d.n1)


def aligned(c: Counts) -> tuple[Pdf, Pdf]:
    """P_a and P_d over [False, True], keeping categories non-zero in both groups."""
    pa: list[float] = []
    pd_: list[float] = []
    for ka, kd in ((c.a.n0, c.d.n0), (c.a.n1, c.d.n1)):
        if ka and kd:
            pa.append(ka / c.a.n)
            pd_.append(kd / c.d.n)
    if not pa:
        raise BiasMetricError("No instance of common facet found, dataset may be too small")
    return np.array(pa), np.array(pd_)


def KL(c: Counts) -> float:
    """Kullback-Liebler Divergence (KL)"""
    pa, pd_ = aligned(c)
    return float(np.sum(pa * np.log(pa / pd_)))


def JS(c: Counts) -> float:
    """Jensen-Shannon Divergence (JS)"""
    pa, pd_ = aligned(c)
    p = 1 / 2 * (pa + pd_)
    return float(0.5 * (np.sum(pa * np.log(pa / p)) + np.sum(pd_ * np.log(pd_ / p))))


def LP(c: Counts) -> float:
    """L-p Norm (LP)"""
    pa, pd_ = aligned(c)
    return float(np.linalg.norm(pa - pd_, 2))


def TVD(c: Counts) -> float:
    """Total Variation Distance (TVD)"""
    pa, pd_ = aligned(c)
    return 0.5 * float(np.linalg.norm(pa - pd_, 1))


def KS(c: Counts) -> float:
    """Kolmogorov-Smirnov Distance (KS)"""
    pa, pd_ = aligned(c)
    return float(np.linalg.norm(pa - pd_, np.inf))
