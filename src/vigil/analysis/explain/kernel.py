"""Kernel SHAP (Lundberg and Lee, 2017) against baseline rows, vectorised over records.

The game is Clarify's: for a record x and a coalition S of features, v(S) = link(mean over the
baseline rows b of f(x_S, b_rest)), with link the identity or the logit (``use_logit``). The
Shapley values are the weighted least-squares fit of v over coalitions under the Shapley
kernel, constrained to add up to v(all) - v(none). When ``num_samples`` covers every
coalition (2^M - 2 of them) they are all enumerated and the result is the exact Shapley value;
otherwise whole coalition sizes are enumerated from the outside in while the budget allows (as
the ``shap`` library does) and the rest are sampled, paired with their complements.

>>> import numpy as np
>>> z, w = coalitions(3, 100, np.random.default_rng(0))
>>> len(z), bool(np.isclose(w.sum(), 1.0))
(6, True)
>>> f = lambda v: v @ np.array([1.0, 2.0, 3.0])          # linear: phi = w * (x - b)
>>> phi, e = kernel_shap(lambda a: f(a)[:, None], np.ones((1, 3)), np.zeros((1, 3)), z, w)
>>> np.round(phi[0, :, 0], 6).tolist(), float(e[0])
([1.0, 2.0, 3.0], 0.0)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

__all__ = ["auto_samples", "coalitions", "kernel_shap", "link", "rows_per_chunk"]

Array = npt.NDArray[np.float64]
EPS = 1e-12
CHUNK_CELLS = 1 << 22  # model-input cells (rows x features) evaluated at once


def auto_samples(m: int) -> int:
    """``num_samples`` when the config leaves it out: 2M + 2048, as the ``shap`` library."""
    return 2 * m + 2048


def link(values: Array, use_logit: bool) -> Array:
    """The identity, or the log-odds of values clipped into (0, 1)."""
    if not use_logit:
        return values
    p = np.clip(values, EPS, 1 - EPS)
    return np.asarray(np.log(p / (1 - p)), dtype=np.float64)


def _kernel_mass(m: int, s: int) -> float:
    """The Shapley kernel's total weight on coalitions of size ``s`` (up to a constant)."""
    return (m - 1) / (s * (m - s))


def coalitions(
    m: int, num_samples: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.bool_], Array]:
    """Coalition masks (k, m) and their kernel weights (summing to 1)."""
    if m < 2:
        return np.zeros((0, m), dtype=bool), np.zeros(0)
    sizes = list(range(1, m))
    mass = {s: _kernel_mass(m, s) for s in sizes}
    total = sum(mass.values())
    masks: list[npt.NDArray[np.bool_]] = []
    weights: list[float] = []
    left = num_samples
    pending = sorted(sizes, key=lambda s: min(s, m - s))  # outside in: 1, m-1, 2, m-2, ...
    done: set[int] = set()
    for s in pending:
        count = math.comb(m, s)
        remaining = sum(mass[t] for t in sizes if t not in done)
        if count > left or left * mass[s] / remaining < count - 1e-9:
            break
        for combo in itertools.combinations(range(m), s):
            z = np.zeros(m, dtype=bool)
            z[list(combo)] = True
            masks.append(z)
            weights.append(mass[s] / count / total)
        left -= count
        done.add(s)
    rest = [s for s in sizes if s not in done]
    if rest and left > 0:
        probs = np.array([mass[s] for s in rest])
        share = probs.sum() / total
        probs = probs / probs.sum()
        drawn: dict[bytes, tuple[npt.NDArray[np.bool_], float]] = {}
        draws = 0
        while draws < left:
            s = rest[int(rng.choice(len(rest), p=probs))]
            z = np.zeros(m, dtype=bool)
            z[rng.choice(m, size=s, replace=False)] = True
            for mask in (z, ~z) if (m - s) in rest else (z,):
                key = mask.tobytes()
                old = drawn.get(key, (mask, 0.0))
                drawn[key] = (mask, old[1] + 1.0)
                draws += 1
        counts = np.array([c for _, c in drawn.values()])
        masks.extend(mask for mask, _ in drawn.values())
        weights.extend((counts / counts.sum() * share).tolist())
    return np.array(masks, dtype=bool).reshape(-1, m), np.array(weights, dtype=np.float64)


def rows_per_chunk(n_coalitions: int, n_baseline: int, m: int) -> int:
    """How many records to explain per model call, keeping the model's input bounded."""
    return max(1, CHUNK_CELLS // max(1, (n_coalitions + 1) * n_baseline * m))


def _solver(z: npt.NDArray[np.bool_], w: Array) -> Array:
    """The matrix A with phi[:-1] = A @ y for the constrained weighted least squares."""
    x = z[:, :-1].astype(np.float64) - z[:, -1:].astype(np.float64)
    xtw = x.T * w
    return np.asarray(np.linalg.pinv(xtw @ x) @ xtw, dtype=np.float64)


def kernel_shap(
    f: Callable[[Array], Array],
    records: Array,
    baseline: Array,
    z: npt.NDArray[np.bool_],
    w: Array,
    *,
    use_logit: bool = False,
    expected: Array | None = None,
) -> tuple[Array, Array]:
    """Local SHAP values (records, features, outputs) and the expected value per output.

    ``f`` maps rows to (rows, outputs); ``expected`` (link of the mean output over the
    baseline) is computed when not given."""
    n, m = records.shape
    nb = len(baseline)
    if expected is None:
        expected = link(f(baseline).mean(axis=0), use_logit)
    full = link(f(records), use_logit)  # (n, k)
    k = full.shape[1]
    if m == 1:
        return (full - expected)[:, None, :], expected
    # every (record, coalition, baseline row): the record's values where the mask is on
    mixed = np.where(z[None, :, None, :], records[:, None, None, :], baseline[None, None, :, :])
    out = f(mixed.reshape(-1, m)).reshape(n, len(z), nb, k).mean(axis=2)
    v = link(out, use_logit)  # (n, S, k)
    gap = full - expected  # (n, k)
    y = v - expected[None, None, :] - z[None, :, -1, None] * gap[:, None, :]
    a = _solver(z, w)  # (m-1, S)
    head = np.einsum("js,nsk->njk", a, y)
    last = gap - head.sum(axis=1)
    return np.concatenate([head, last[:, None, :]], axis=1), expected
