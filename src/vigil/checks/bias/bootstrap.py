"""Normal bootstrap intervals of a window's bias metrics.

Resampling the window's rows with replacement and counting again is, for a metric made of
counts, the same as drawing the counts from a multinomial over the count cells (facet × label
× prediction, and × group for CDD) with the window's shares: that is what is drawn here, so
each resample costs a few array operations, not a pass over the rows. The interval is the
Normal one, ``value ± z·sd(resamples)``. FT (a nearest-neighbour fit per resample) is not
resampled: its interval is its value.

>>> import numpy as np
>>> from vigil.checks.bias.counts import Counts, GroupCounts
>>> c = Counts(a=GroupCounts(40, 10, 10, 40), d=GroupCounts(20, 5, 25, 50))
>>> draws = resample_counts(c, 200, np.random.default_rng(0))
>>> len(draws), draws[0].a.n + draws[0].d.n
(200, 200)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from vigil.checks.bias.counts import Counts, GroupCounts, divide
from vigil.checks.bias.errors import BiasMetricError
from vigil.errors import ConfigError


@dataclass(frozen=True)
class Bootstrap:
    """Vigil's damping of bias drift: ``n_resamples`` resamples of the window, a two-sided
    Normal interval at ``confidence``, drawn from ``seed`` (None: fresh randomness)."""

    n_resamples: int = 1000
    confidence: float = 0.95
    seed: int | None = 0

    def __post_init__(self) -> None:
        if self.n_resamples < 2:
            raise ConfigError(f"bootstrap n_resamples {self.n_resamples}: expected at least 2")
        if not 0 < self.confidence < 1:
            raise ConfigError(
                f"bootstrap confidence {self.confidence}: expected a number in (0, 1)"
            )

    @property
    def z(self) -> float:
        return NormalDist().inv_cdf(0.5 + self.confidence / 2)


def _cells(c: Counts) -> list[int]:
    return [c.a.tp, c.a.fp, c.a.fn, c.a.tn, c.d.tp, c.d.fp, c.d.fn, c.d.tn]


def resample_counts(c: Counts, n: int, rng: np.random.Generator) -> list[Counts]:
    """``n`` bootstrap resamples of the rows behind ``c``, as counts."""
    cells = np.array(_cells(c), dtype=np.float64)
    total = int(cells.sum())
    if total == 0:
        return [c] * n
    draws = rng.multinomial(total, cells / total, size=n).tolist()
    return [Counts(GroupCounts(*row[:4]), GroupCounts(*row[4:])) for row in draws]


def resample_cdd_tables(
    table: npt.NDArray[np.int64], n: int, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """``n`` resamples of a (groups × 4) CDD table ``[a0, a1, d0, d1]``."""
    flat = table.reshape(-1).astype(np.float64)
    total = int(flat.sum())
    draws = rng.multinomial(total, flat / total, size=n)
    return np.asarray(draws.reshape(n, *table.shape), dtype=np.int64)


def cdd_from_table(table: npt.NDArray[np.int64]) -> float:
    """CDD of a (groups × 4) table ``[a0, a1, d0, d1]`` (see :mod:`.cdd`)."""
    pos = table[:, 1] + table[:, 3]
    neg = table[:, 0] + table[:, 2]
    if pos.sum() == 0:
        raise BiasMetricError("No positive labels in set")
    if neg.sum() == 0:
        raise BiasMetricError("No negative labels in set")
    n_g = table.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        acc = np.where(pos != 0, table[:, 3] / np.where(pos != 0, pos, 1), 0.0)
        rej = np.where(neg != 0, table[:, 2] / np.where(neg != 0, neg, 1), 0.0)
    return divide(float(np.sum(n_g * (rej - acc))), float(np.sum(n_g)))


def normal_interval(value: float, replicates: list[float], z: float) -> tuple[float, float] | None:
    """``value ± z·sd``; None when fewer than half the resamples give a finite value (the
    spread is then unknown and the point value decides)."""
    finite = [r for r in replicates if math.isfinite(r)]
    if not math.isfinite(value) or len(finite) < max(2, len(replicates) // 2):
        return None
    sd = float(np.std(finite, ddof=1))
    return value - z * sd, value + z * sd


def replicate(metric: Callable[[Counts], float], draws: list[Counts]) -> list[float]:
    """The metric on each resample (a resample where it fails counts as not finite)."""
    out = []
    for c in draws:
        try:
            out.append(float(metric(c)))
        except BiasMetricError:
            out.append(math.nan)
    return out
