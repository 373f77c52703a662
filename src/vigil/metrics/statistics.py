"""CloudWatch statistics over periods: names, period alignment and nearest-rank percentiles.

Periods are aligned to the Unix epoch, as CloudWatch does: a datapoint at ``t`` belongs to
the period starting at ``floor(t / period) * period``.

Percentiles use the **nearest-rank** definition (Hyndman & Fan method 1, NumPy's
``method="inverted_cdf"``): ``pX`` of ``N`` values is the smallest value ``v`` such that at
least ``X% * N`` of the values are ``<= v``. It always returns an observed value, as
CloudWatch does, never an interpolation between two. Statistic sets enter percentiles only
when CloudWatch would allow it: ``minimum == maximum`` (which includes ``SampleCount == 1``),
weighing ``sample_count`` copies of that value; a period holding any other statistic set has
no percentile (``None``), since the values inside the set are unknown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from vigil.errors import InputError

BASIC = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"p(\d{1,3}(?:\.\d{1,2})?)")


def period_start(epoch_seconds: float, period_seconds: int) -> int:
    """Start of the epoch-aligned period holding ``epoch_seconds``.

    >>> period_start(1_700_000_123.9, 60)
    1700000100
    >>> period_start(1_700_000_123, 3600)
    1699999200
    """
    return math.floor(epoch_seconds / period_seconds) * period_seconds


def parse_statistics(statistics: Sequence[str]) -> list[tuple[str, float | None]]:
    """Validate statistic names; each as (name, percentile or None).

    >>> parse_statistics(["Average", "p99.9", "p50"])
    [('Average', None), ('p99.9', 99.9), ('p50', 50.0)]
    >>> parse_statistics(["Mean"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vigil.errors.InputError: [input_error] statistics: 'Mean' is not one of SampleCount, ...
    """
    if isinstance(statistics, str):
        statistics = [statistics]
    if not statistics:
        raise InputError("statistics: expected at least one statistic")
    parsed: list[tuple[str, float | None]] = []
    for name in statistics:
        match = _PERCENTILE.fullmatch(name) if isinstance(name, str) else None
        if name in BASIC:
            parsed.append((name, None))
        elif match and float(match.group(1)) <= 100:
            parsed.append((name, float(match.group(1))))
        else:
            raise InputError(
                f"statistics: {name!r} is not one of {', '.join(BASIC)} "
                "or a percentile pNN.NN between p0 and p100"
            )
    return parsed


def nearest_rank(
    groups: np.ndarray, values: np.ndarray, weights: np.ndarray, percentiles: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted nearest-rank percentiles of ``values`` within each group.

    Returns the sorted distinct groups and a ``(len(groups), len(percentiles))`` array.
    With unit weights this equals ``np.percentile(values, p, method="inverted_cdf")``.

    >>> g, out = nearest_rank(np.array([0, 0, 0, 0, 60]), np.array([4.0, 1.0, 3.0, 2.0, 7.0]),
    ...                       np.ones(5), [0, 25, 50, 51, 100])
    >>> g.tolist(), out.tolist()
    ([0, 60], [[1.0, 1.0, 2.0, 3.0, 4.0], [7.0, 7.0, 7.0, 7.0, 7.0]])
    >>> nearest_rank(np.array([0, 0]), np.array([1.0, 5.0]), np.array([9.0, 1.0]), [90, 91])[1]
    array([[1., 5.]])
    """
    order = np.lexsort((values, groups))
    groups, values, weights = groups[order], values[order], weights[order]
    distinct, starts = np.unique(groups, return_index=True)
    ends = np.append(starts[1:], len(groups))
    cum = np.cumsum(weights, dtype=np.float64)
    base = np.where(starts > 0, cum[starts - 1], 0.0)
    totals = cum[ends - 1] - base
    out = np.empty((len(distinct), len(percentiles)), dtype=np.float64)
    for j, p in enumerate(percentiles):
        target = totals * (float(p) / 100.0)
        # Snap float noise (99.9% of 1000 is 999, not 999.0000000001) before the rank search.
        nearest = np.round(target)
        target = np.where(
            np.abs(target - nearest) <= 1e-9 * np.maximum(totals, 1.0), nearest, target
        )
        index = np.searchsorted(cum, base + target, side="left")
        index = np.clip(index, starts, ends - 1)
        out[:, j] = values[index]
    return distinct, out
