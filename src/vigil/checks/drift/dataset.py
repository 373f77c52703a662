"""Drift of many features together: multiple-testing corrections and the dataset's drift share."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Literal

import numpy as np

from vigil.checks.drift.feature import DriftResult
from vigil.checks.drift.registry import decide
from vigil.errors import ConfigError

__all__ = ["CORRECTIONS", "benjamini_hochberg", "bonferroni", "correct_pvalues", "dataset_drift"]

CORRECTIONS = ("none", "bonferroni", "fdr")


def bonferroni(p: np.ndarray) -> np.ndarray:
    """``min(1, p * k)``.

    >>> bonferroni(np.array([0.01, 0.4]))
    array([0.02, 0.8 ])
    """
    adjusted: np.ndarray = np.minimum(1.0, p * p.size)
    return adjusted


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH adjusted p-values: ``min_{j >= i} p_(j) k / j`` in sorted order, capped at 1.

    The same figures as ``scipy.stats.false_discovery_control(p, method="bh")``:

    >>> benjamini_hochberg(np.array([0.04, 0.01, 0.03]))
    array([0.04, 0.03, 0.04])
    """
    k = p.size
    if k == 0:
        return np.array(p, dtype=np.float64)
    order = np.argsort(p)
    scaled = p[order] * k / np.arange(1, k + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(k, dtype=np.float64)
    out[order] = np.minimum(1.0, adjusted)
    return out


def correct_pvalues(
    results: Mapping[str, DriftResult], correction: Literal["none", "bonferroni", "fdr"]
) -> dict[str, DriftResult]:
    """Adjust the p-value results together (Bonferroni or Benjamini-Hochberg) and re-decide.

    The family is every result of kind ``p_value`` with a non-NaN value; distance results and NaN
    p-values pass through unchanged.

    >>> r = {"a": DriftResult("ks", 0.01, 0.05, True, "p_value"),
    ...      "b": DriftResult("ks", 0.04, 0.05, True, "p_value")}
    >>> {k: v.value for k, v in correct_pvalues(r, "bonferroni").items()}
    {'a': 0.02, 'b': 0.08}
    """
    if correction not in CORRECTIONS:
        raise ConfigError(
            f"unknown p-value correction {correction!r}; valid: none, bonferroni, fdr"
        )
    out = dict(results)
    family = [k for k, r in results.items() if r.kind == "p_value" and not math.isnan(r.value)]
    if correction == "none" or not family:
        return out
    p = np.array([results[k].value for k in family], dtype=np.float64)
    adjusted = bonferroni(p) if correction == "bonferroni" else benjamini_hochberg(p)
    for key, value in zip(family, adjusted.tolist(), strict=True):
        r = results[key]
        out[key] = dataclasses.replace(r, value=value, drifted=decide("<", value, r.threshold))
    return out


def dataset_drift(
    results: Mapping[str, DriftResult], share_threshold: float = 0.5
) -> tuple[float, bool]:
    """Share of drifted features among those with a value (NaN ones left out), and whether
    ``share >= share_threshold`` (Evidently's rule). No evaluable feature: ``(0.0, False)``.

    >>> r = {"a": DriftResult("psi", 0.3, 0.1, True, "distance"),
    ...      "b": DriftResult("psi", 0.0, 0.1, False, "distance")}
    >>> dataset_drift(r)
    (0.5, True)
    """
    evaluated = [r for r in results.values() if not math.isnan(r.value)]
    if not evaluated:
        return 0.0, False
    share = sum(r.drifted for r in evaluated) / len(evaluated)
    return share, share >= share_threshold
