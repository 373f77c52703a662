"""An Isolation Forest in portable form, and its vectorised NumPy scorer.

:func:`export_forest` turns a fitted :class:`sklearn.ensemble.IsolationForest` into plain
arrays (JSON-ready): per tree, in breadth-first order so that a node's right child is its left
child + 1, the split ``feature`` (an index of the model's columns, through the forest's
feature subsets), the ``threshold``, the ``left`` child and, per leaf, the ``value``: the
leaf's depth plus the average path length of an unsuccessful search among the training
samples that reached it, minus 1, as scikit-learn adds it. Leaves point to themselves with an
infinite threshold, so every record walks exactly ``max_depth`` steps, with no branch.

The score is the Isolation Forest's own, :math:`2^{-E[h(x)]/c(\\psi)}` with ``psi`` the
samples drawn per tree: in (0, 1], higher is more anomalous; it equals
``-IsolationForest.score_samples`` (scikit-learn compares float32 inputs with float64
thresholds; so does this scorer).

>>> import numpy as np
>>> from sklearn.ensemble import IsolationForest
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(500, 3))
>>> model = IsolationForest(n_estimators=20, random_state=0).fit(X)
>>> forest = Forest.from_dict(export_forest(model))
>>> bool(np.allclose(forest.score(X), -model.score_samples(X), rtol=1e-12, atol=0))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.errors import FormatError

__all__ = ["Forest", "average_path_length", "export_forest"]

#: rows scored at once (bounds the memory of the node matrix: rows x trees)
CHUNK_ROWS = 2_048


def average_path_length(n: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """c(n): the average path length of an unsuccessful search in a binary search tree of n
    keys (0 for n <= 1, 1 for n = 2), as the Isolation Forest paper and scikit-learn define it.

    >>> [round(float(v), 6) for v in average_path_length([1, 2, 256])]
    [0.0, 1.0, 10.244771]
    """
    a = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(a)
    out[a == 2] = 1.0
    big = a > 2
    out[big] = 2.0 * (np.log(a[big] - 1.0) + np.euler_gamma) - 2.0 * (a[big] - 1.0) / a[big]
    return out


def export_forest(model: Any) -> dict[str, Any]:
    """The portable form of a fitted scikit-learn ``IsolationForest`` (plain lists)."""
    trees = []
    for est, feats in zip(model.estimators_, model.estimators_features_):
        t = est.tree_
        depth = t.compute_node_depths()
        value = depth + average_path_length(t.n_node_samples) - 1.0
        # breadth-first renumbering: the right child is left + 1
        order = [0]
        new_left = {}
        i = 0
        while i < len(order):
            node = order[i]
            if t.children_left[node] != -1:
                new_left[node] = len(order)
                order.extend([int(t.children_left[node]), int(t.children_right[node])])
            i += 1
        index = {old: new for new, old in enumerate(order)}
        feature: list[int] = []
        threshold: list[float | None] = []
        left: list[int] = []
        leaf_value: list[float] = []
        for old in order:
            if t.children_left[old] == -1:
                feature.append(0)
                threshold.append(None)  # +inf: always "left", onto itself
                left.append(index[old])
                leaf_value.append(float(value[old]))
            else:
                feature.append(int(feats[t.feature[old]]))
                threshold.append(float(t.threshold[old]))
                left.append(new_left[old])
                leaf_value.append(0.0)
        trees.append(
            {"feature": feature, "threshold": threshold, "left": left, "value": leaf_value}
        )
    return {
        "n_samples": int(model.max_samples_),
        "max_depth": int(max(e.tree_.max_depth for e in model.estimators_)),
        "n_features": int(model.n_features_in_),
        "trees": trees,
    }


def _bad(where: str, why: str) -> FormatError:
    return FormatError(f"{where}: not a valid isolation forest ({why})")


@dataclass
class Forest:
    """The flattened forest: all trees' nodes in one set of arrays."""

    feature: npt.NDArray[np.intp]
    threshold: npt.NDArray[np.float64]
    left: npt.NDArray[np.intp]
    value: npt.NDArray[np.float64]
    roots: npt.NDArray[np.intp]
    max_depth: int
    n_samples: int
    n_features: int

    @classmethod
    def from_dict(cls, d: Any, where: str = "<forest>") -> Forest:
        """Read :func:`export_forest`'s form back, checking every index."""
        try:
            trees = d["trees"]
            feats, thrs, lefts, vals, roots = [], [], [], [], []
            offset = 0
            n_features = int(d["n_features"])
            for k, t in enumerate(trees):
                f = np.asarray(t["feature"], dtype=np.intp)
                thr = np.asarray(
                    [np.inf if v is None else float(v) for v in t["threshold"]], dtype=np.float64
                )
                left = np.asarray(t["left"], dtype=np.intp)
                val = np.asarray(t["value"], dtype=np.float64)
                m = len(f)
                if not (m == len(thr) == len(left) == len(val)) or m == 0:
                    raise _bad(where, f"tree {k}: arrays of different lengths")
                if f.min() < 0 or f.max() >= n_features:
                    raise _bad(where, f"tree {k}: feature index out of range")
                inner = np.isfinite(thr)
                if left.min() < 0 or left.max() >= m or (left[inner] + 1).max(initial=0) >= m:
                    raise _bad(where, f"tree {k}: child index out of range")
                roots.append(offset)
                feats.append(f)
                thrs.append(thr)
                lefts.append(left + offset)
                vals.append(val)
                offset += m
            if not roots:
                raise _bad(where, "no tree")
            return cls(
                feature=np.concatenate(feats),
                threshold=np.concatenate(thrs),
                left=np.concatenate(lefts),
                value=np.concatenate(vals),
                roots=np.asarray(roots, dtype=np.intp),
                max_depth=int(d["max_depth"]),
                n_samples=int(d["n_samples"]),
                n_features=n_features,
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise _bad(where, str(exc)) from None

    def score(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The anomaly score of each row of ``X`` (rows x model columns), in (0, 1]."""
        x = np.ascontiguousarray(X, dtype=np.float32)
        n, p = x.shape
        n_trees = len(self.roots)
        denominator = n_trees * float(average_path_length([self.n_samples])[0])
        if denominator == 0:
            return np.ones(n, dtype=np.float64)
        feature = self.feature.astype(np.int32)
        left = self.left.astype(np.int32)
        # for a float32 value x, x <= t (float64) exactly when x <= the largest float32 <= t
        thr = self.threshold.astype(np.float32)
        above = thr.astype(np.float64) > self.threshold
        thr[above] = np.nextafter(thr[above], np.float32(-np.inf))
        depths = np.empty(n, dtype=np.float64)
        roots = self.roots.astype(np.int32)[None, :]
        for start in range(0, n, CHUNK_ROWS):
            stop = min(n, start + CHUNK_ROWS)
            rows = stop - start
            flat = x[start:stop].ravel()
            base = (np.arange(rows, dtype=np.int32) * np.int32(p))[:, None]
            node = np.repeat(roots, rows, axis=0)
            idx = np.empty_like(node)
            values = np.empty(node.shape, dtype=np.float32)
            cut = np.empty(node.shape, dtype=np.float32)
            for _ in range(self.max_depth):
                np.take(feature, node, out=idx)
                idx += base
                np.take(flat, idx, out=values)
                np.take(thr, node, out=cut)
                np.take(left, node, out=idx)
                node, idx = idx, node
                node += values > cut
            depths[start:stop] = self.value[node].sum(axis=1)
        return np.asarray(2.0 ** (-depths / denominator), dtype=np.float64)
