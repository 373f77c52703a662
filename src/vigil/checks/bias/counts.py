"""The counts every facet-level metric is made of, from one pass over the rows.

The rows of facet d (selected) and facet a (the rest) are split by label and prediction with a
single ``bincount`` over ``4·d + 2·label + prediction``:

>>> import numpy as np
>>> c = count(np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool),
...           np.array([1, 1, 0, 1], bool))
>>> (c.d.n, c.d.tp, c.d.fp, c.a.n, c.a.fn, c.a.fp)
(2, 1, 1, 2, 1, 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

INFINITY = float("inf")


def divide(a: float, b: float) -> float:
    """smclarify's ``divide``: 0/0 is 0, x/0 is +inf or -inf by the sign of x.

    >>> divide(0, 0), divide(3, 0), divide(-1, 0), divide(1, 4)
    (0.0, inf, -inf, 0.25)
    """
    if b == 0 and a == 0:
        return 0.0
    if b == 0:
        return -INFINITY if a < 0 else INFINITY
    return a / b


@dataclass(frozen=True)
class GroupCounts:
    """Confusion counts of one group (facet a or facet d)."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def n1(self) -> int:
        """Observed positives."""
        return self.tp + self.fn

    @property
    def n0(self) -> int:
        """Observed negatives."""
        return self.fp + self.tn

    @property
    def n1hat(self) -> int:
        """Predicted positives."""
        return self.tp + self.fp

    @property
    def n0hat(self) -> int:
        """Predicted negatives."""
        return self.fn + self.tn


@dataclass(frozen=True)
class Counts:
    """Facet a's and facet d's counts."""

    a: GroupCounts
    d: GroupCounts


def count(
    is_d: npt.NDArray[np.bool_],
    label: npt.NDArray[np.bool_],
    predicted: npt.NDArray[np.bool_] | None = None,
) -> Counts:
    """The counts of one facet value. Without ``predicted`` the prediction is taken to equal
    the label, so the positives are in ``tp`` and the negatives in ``tn``."""
    code = is_d.astype(np.int8) * 4 + label.astype(np.int8) * 2
    if predicted is not None:
        code += predicted.astype(np.int8)
    else:
        code += label.astype(np.int8)  # prediction = label: positives are TP, negatives TN
    cells = np.bincount(code, minlength=8).tolist()
    # cell index: 4*d + 2*label + prediction
    a = GroupCounts(tp=cells[3], fp=cells[1], fn=cells[2], tn=cells[0])
    d = GroupCounts(tp=cells[7], fp=cells[5], fn=cells[6], tn=cells[4])
    return Counts(a, d)
