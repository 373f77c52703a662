"""The flip test (FT), as smclarify computes it.

A k-nearest-neighbours classifier (scikit-learn ``KNeighborsClassifier(n_neighbors=5,
weights="uniform", p=2)``, k = 1 when facet a has 9 rows or fewer) is fitted on facet a's
feature rows with the *model's predictions* as targets, then predicts facet d's rows. FT =
(#{model 1, kNN 0} - #{model 0, kNN 1}) / n_d: smclarify's sign, the opposite of the docs'.
Features are raw and unscaled: every column but the facet, label and predicted label.

The neighbours are found with SciPy's ``cKDTree`` (exact Euclidean k-nearest, on all cores),
asking for one neighbour more than the vote needs: a row whose k-th and (k+1)-th distances tie
(within 1e-9 relative, so rounding cannot hide a tie) has no unique set of k nearest, and only
those rows are predicted by scikit-learn's own ``KNeighborsClassifier``, as smclarify does, so
its tie-breaking is kept. Every other row's k nearest are unique, so the vote is the same.

>>> import numpy as np
>>> x = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [0.1], [10.1]])
>>> pred = np.array([0, 0, 0, 1, 1, 1, 0], bool)
>>> is_d = np.array([0, 0, 0, 0, 0, 1, 1], bool)
>>> flip_test(x, is_d, pred)
0.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.checks.bias.counts import divide
from vigil.checks.bias.errors import BiasMetricError

DEFAULT_NEIGHBOURS = 5
MIN_NEIGHBOURS = 1
SMALL_SET = 9
NON_NUMERIC = "FlipTest does not support non-numeric columns"


def flip_test(
    features: npt.NDArray[Any] | None,
    is_d: npt.NDArray[np.bool_],
    predicted: npt.NDArray[np.bool_],
    *,
    n_jobs: int | None = -1,
) -> float:
    """FT of one facet value; ``features`` None means a non-numeric column is among them."""
    nd = int(np.count_nonzero(is_d))
    if nd == 0:
        raise BiasMetricError("Facet set is empty")
    if nd == len(is_d):
        raise BiasMetricError("Negated Facet set is empty")
    if features is None:
        raise BiasMetricError(NON_NUMERIC)
    xa, xd = features[~is_d], features[is_d]
    ya, yd = predicted[~is_d], predicted[is_d]
    k = DEFAULT_NEIGHBOURS if len(xa) > SMALL_SET else MIN_NEIGHBOURS
    flipped = _vote(xa, ya, xd, k, n_jobs)
    pos = int(np.count_nonzero(yd & ~flipped))
    neg = int(np.count_nonzero(~yd & flipped))
    return divide(pos - neg, nd)


def _vote(
    xa: npt.NDArray[Any],
    ya: npt.NDArray[np.bool_],
    xd: npt.NDArray[Any],
    k: int,
    n_jobs: int | None,
) -> npt.NDArray[np.bool_]:
    """kNN majority vote of facet a's predictions for each row of facet d."""
    # lazy: SciPy loads only when a flip test runs
    from scipy.spatial import cKDTree

    def sklearn_vote(rows: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
        # lazy: scikit-learn (a second or so to import) only for the rows it must decide
        from sklearn.neighbors import KNeighborsClassifier

        knn = KNeighborsClassifier(n_neighbors=k, weights="uniform", p=2, n_jobs=n_jobs)
        knn.fit(xa, ya)
        return np.asarray(knn.predict(rows), dtype=bool)

    if xa.shape[1] == 0 or len(xa) <= k or not np.isfinite(xa).all() or not np.isfinite(xd).all():
        return sklearn_vote(xd)  # scikit-learn's own answer (or error) for these cases
    # an unbalanced, non-compact tree builds faster and answers as fast; the same answers
    tree = cKDTree(xa, leafsize=16, balanced_tree=False, compact_nodes=False)
    order = _locality_order(xd)  # neighbouring queries one after another: twice as fast
    found_d, found_i = tree.query(
        xd[order], k=k + 1, workers=-1 if n_jobs in (None, -1) else n_jobs
    )
    dist = np.empty((len(xd), k + 1))
    idx = np.empty((len(xd), k + 1), dtype=np.intp)
    dist[order] = np.asarray(found_d).reshape(len(xd), k + 1)
    idx[order] = np.asarray(found_i).reshape(len(xd), k + 1)
    votes = ya[idx[:, :k]].sum(axis=1)
    out = np.asarray(2 * votes > k)
    # an even k can tie the vote itself: leave those rows to scikit-learn
    tied_vote = (2 * votes == k) if k % 2 == 0 else np.zeros(len(xd), dtype=bool)
    kth, nxt = dist[:, k - 1], dist[:, k]
    tied = (nxt - kth <= 1e-9 * np.maximum(np.abs(kth), 1e-300)) | tied_vote
    if tied.any():
        out[tied] = sklearn_vote(xd[tied])
    return out


def _locality_order(x: npt.NDArray[Any], cells: int = 64) -> npt.NDArray[np.intp]:
    """An order of the rows of ``x`` by the cell of a coarse grid over its first three
    columns, so that consecutive queries walk the same part of the tree (each query's answer
    does not depend on the order).

    >>> _locality_order(np.array([[5.0], [0.0], [5.0], [1.0]])).tolist()
    [1, 3, 0, 2]
    """
    if len(x) == 0:
        return np.arange(0, dtype=np.intp)
    cols = np.asarray(x[:, :3], dtype=float)
    lo = cols.min(axis=0)
    span = np.ptp(cols, axis=0)
    span[span == 0] = 1.0
    cell = np.floor((cols - lo) / span * (cells - 1)).astype(np.int64)
    key = np.zeros(len(x), dtype=np.int64)
    for j in range(cols.shape[1] - 1, -1, -1):
        key = key * cells + cell[:, j]
    return np.argsort(key, kind="stable").astype(np.intp)
