"""The standard deviation of each metric over subsamples, as SageMaker reports it.

With at least ``MIN_ROWS_FOR_STD`` (200) rows: five subsamples, each row kept with probability
0.8 (Bernoulli sampling, as Spark's ``sample(false, 0.8)``), drawn from
``numpy.random.default_rng(seed)``; the metric on each; their population standard deviation
(``numpy.std``, ``ddof=0``). Fewer rows: no deviation (written as the string ``"NaN"``).

>>> values = np.arange(300.0)
>>> subsample_std(lambda keep: {"mean": float(values[keep].mean())}, 300, seed=0)["mean"] > 0
True
>>> subsample_std(lambda keep: {"mean": 0.0}, 199, seed=0)
{}
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "MIN_ROWS_FOR_STD",
    "STD_DDOF",
    "SUBSAMPLES",
    "SUBSAMPLE_FRACTION",
    "subsample_std",
]

MIN_ROWS_FOR_STD = 200
SUBSAMPLES = 5
SUBSAMPLE_FRACTION = 0.8
STD_DDOF = 0


def subsample_std(
    scalars: Callable[[np.ndarray], dict[str, float]], n: int, seed: int
) -> dict[str, float | str]:
    """Deviation of each metric over five Bernoulli(0.8) subsamples; {} below 200 rows.

    ``scalars`` computes the metrics of the rows a boolean mask keeps; a metric that is not
    finite on some subsample has the deviation ``"NaN"``.
    """
    if n < MIN_ROWS_FOR_STD:
        return {}
    rng = np.random.default_rng(seed)
    runs = [scalars(rng.random(n) < SUBSAMPLE_FRACTION) for _ in range(SUBSAMPLES)]
    out: dict[str, float | str] = {}
    for key in runs[0]:
        vals = np.array([r[key] for r in runs], dtype=np.float64)
        out[key] = float(np.std(vals, ddof=STD_DDOF)) if np.isfinite(vals).all() else "NaN"
    return out
