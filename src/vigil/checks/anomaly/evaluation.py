"""Data with injected outliers, and the precision and recall of an outlier model on it.

:func:`injected_outliers` draws training data (correlated normal features and one categorical
column) and a window holding three kinds of injected outliers beside clean rows: an
**extreme** value in one feature (5 to 8 standard deviations), an **unusual combination**
(two positively correlated features at +2 and -2 standard deviations, each ordinary alone) and
a **rare category** (a value never seen in training). :func:`precision_recall` scores the
window at the model's threshold.

>>> train, window, kinds = injected_outliers(n_train=500, n_window=200, per_kind=5, seed=0)
>>> train.num_rows, window.num_rows, sorted(set(kinds))
(500, 200, ['', 'combination', 'extreme', 'rare_category'])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from vigil.checks.anomaly.model import AnomalyModel

__all__ = ["KINDS", "Evaluation", "injected_outliers", "precision_recall"]

KINDS = ("extreme", "combination", "rare_category")
_CATEGORIES = ["a", "b", "c", "d"]
_SHARES = [0.4, 0.3, 0.2, 0.1]


def _draw(rng: np.random.Generator, n: int, p: int, rho: float) -> npt.NDArray[np.float64]:
    cov = np.full((p, p), rho) + (1.0 - rho) * np.eye(p)
    return rng.multivariate_normal(np.zeros(p), cov, size=n)


def injected_outliers(
    *,
    n_train: int = 5000,
    n_window: int = 2000,
    n_features: int = 8,
    per_kind: int = 20,
    rho: float = 0.6,
    seed: int = 0,
) -> tuple[pa.Table, pa.Table, list[str]]:
    """Training data, a window, and each window row's kind ("" for a clean row)."""
    rng = np.random.default_rng(seed)
    names = [f"f{i}" for i in range(n_features)]
    xt = _draw(rng, n_train, n_features, rho)
    train = pa.table(
        {
            **{n: xt[:, i] for i, n in enumerate(names)},
            "cat": rng.choice(_CATEGORIES, n_train, p=_SHARES),
        }
    )
    xw = _draw(rng, n_window, n_features, rho)
    cat = rng.choice(_CATEGORIES, n_window, p=_SHARES).astype(object)
    kinds = [""] * n_window
    rows = rng.permutation(n_window)[: 3 * per_kind]
    ext, comb, rare = rows[:per_kind], rows[per_kind : 2 * per_kind], rows[2 * per_kind :]
    col = rng.integers(0, n_features, per_kind)
    xw[ext, col] = rng.choice([-1.0, 1.0], per_kind) * rng.uniform(5.0, 8.0, per_kind)
    xw[comb, 0], xw[comb, 1] = 2.0, -2.0
    cat[rare] = "never_seen"
    for kind, idx in zip(KINDS, (ext, comb, rare)):
        for i in idx:
            kinds[int(i)] = kind
    window = pa.table(
        {**{n: xw[:, i] for i, n in enumerate(names)}, "cat": pa.array(list(cat), pa.string())}
    )
    return train, window, kinds


@dataclass
class Evaluation:
    """Precision and recall at the model's threshold, overall and per kind (recall)."""

    precision: float
    recall: float
    recall_by_kind: dict[str, float]
    false_positive_rate: float


def precision_recall(model: AnomalyModel, window: pa.Table, kinds: list[str]) -> Evaluation:
    """Score ``window`` and compare the anomalous records with the injected ones."""
    flagged = model.score(model.encode(window).matrix) > model.threshold
    truth = np.array([k != "" for k in kinds])
    hits = int(np.count_nonzero(flagged & truth))
    by_kind = {
        k: float(flagged[[x == k for x in kinds]].mean()) for k in KINDS if k in set(kinds)
    }
    return Evaluation(
        precision=hits / max(int(flagged.sum()), 1),
        recall=hits / max(int(truth.sum()), 1),
        recall_by_kind=by_kind,
        false_positive_rate=float(flagged[~truth].mean()) if (~truth).any() else 0.0,
    )
