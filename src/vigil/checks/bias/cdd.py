"""Conditional demographic disparity (CDDL on labels, CDDPL on predicted labels).

Per group g of the group variable: A_g = n_d(1, g) / n(1, g) and D_g = n_d(0, g) / n(0, g)
(0 when the denominator is 0); CDD = sum_g n_g (D_g - A_g) / sum_g n_g. Positive means facet d
holds a larger share of the rejections than of the acceptances. All groups are counted in one
``bincount``.

>>> import numpy as np
>>> is_d = np.array([1, 1, 0, 0, 1, 0], bool)
>>> label = np.array([0, 1, 1, 0, 0, 1], bool)
>>> groups = np.array([0, 0, 0, 0, 1, 1])
>>> round(cdd(is_d, label, groups), 4)
0.3333
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.checks.bias.counts import divide
from vigil.checks.bias.errors import BiasMetricError

NO_GROUP = "Group variable is empty or not provided"


def group_codes(group: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """The group variable as codes 0..k-1 (``np.unique`` order, as smclarify)."""
    if group.dtype.kind == "O":
        _, inverse = np.unique(group.astype(str), return_inverse=True)
    else:
        _, inverse = np.unique(group, return_inverse=True)
    return np.asarray(inverse, dtype=np.intp).reshape(-1)


def cdd(
    is_d: npt.NDArray[np.bool_],
    label: npt.NDArray[np.bool_],
    group: npt.NDArray[Any] | None,
    *,
    codes: npt.NDArray[np.intp] | None = None,
) -> float:
    """CDD of ``label`` (observed or predicted) across the groups (``codes``: the groups
    already coded by :func:`group_codes`)."""
    if codes is None:
        if group is None or len(group) == 0:
            raise BiasMetricError(NO_GROUP)
        codes = group_codes(group)
    if len(codes) == 0:
        raise BiasMetricError(NO_GROUP)
    positives = int(np.count_nonzero(label))
    if positives == 0:
        raise BiasMetricError("No positive labels in set")
    if positives == len(label):
        raise BiasMetricError("No negative labels in set")
    k = int(codes.max()) + 1
    cell = codes * 4 + is_d.astype(np.intp) * 2 + label.astype(np.intp)
    table = np.bincount(cell, minlength=4 * k).reshape(k, 4)  # [a0, a1, d0, d1] per group
    n_g = table.sum(axis=1)
    pos = table[:, 1] + table[:, 3]
    neg = table[:, 0] + table[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        acc = np.where(pos != 0, table[:, 3] / np.where(pos != 0, pos, 1), 0.0)
        rej = np.where(neg != 0, table[:, 2] / np.where(neg != 0, neg, 1), 0.0)
    return divide(float(np.sum(n_g * (rej - acc))), float(np.sum(n_g)))
