"""Brute-force Shapley values: the oracle of the explanation tests.

For a record x, baseline rows B and coalition S, v(S) = link(mean over b in B of f(x_S, b));
phi_i = sum over S not holding i of |S|! (M - |S| - 1)! / M! (v(S + i) - v(S)). Every
coalition is evaluated; nothing here shares code with vigil.analysis.explain.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np


def _link(p: np.ndarray, use_logit: bool) -> np.ndarray:
    if not use_logit:
        return p
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))


def brute_shapley(
    f: Callable[[np.ndarray], np.ndarray],
    records: np.ndarray,
    baseline: np.ndarray,
    use_logit: bool = False,
) -> tuple[np.ndarray, float]:
    """Exact Shapley values (records, features) of a scalar model output, and v(empty)."""
    n, m = records.shape
    phi = np.zeros((n, m))
    for r, x in enumerate(records):
        value: dict[frozenset[int], float] = {}
        for size in range(m + 1):
            for subset in itertools.combinations(range(m), size):
                rows = baseline.copy()
                rows[:, list(subset)] = x[list(subset)]
                value[frozenset(subset)] = float(_link(np.mean(f(rows)), use_logit))
        for i in range(m):
            others = [j for j in range(m) if j != i]
            for size in range(m):
                weight = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
                for subset in itertools.combinations(others, size):
                    s = frozenset(subset)
                    phi[r, i] += weight * (value[s | {i}] - value[s])
    return phi, value[frozenset()]
