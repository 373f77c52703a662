"""The SHAP baseline: the config's rows, or K-means cluster centres of the data.

Clarify explains the model's output against a baseline: ``methods.shap.baseline`` rows when
given, else K-means clusters of the dataset into ``num_clusters``. Vigil uses the cluster
centres as equally weighted baseline rows (``auto``: ``min(10, distinct rows)`` clusters,
seeded by ``seed``), so every algorithm explains the same quantity: the mean over the baseline
rows.

>>> import numpy as np
>>> baseline_rows(np.zeros((4, 2)), [[1.0, 2.0]], None, None, 2).tolist()
[[1.0, 2.0]]
>>> baseline_rows(np.array([[0.0], [0.0], [10.0], [10.0]]), None, 2, 0, 1).ravel().tolist()
[0.0, 10.0]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from vigil.errors import ConfigError

__all__ = ["AUTO_CLUSTERS", "baseline_rows"]

AUTO_CLUSTERS = 10


def baseline_rows(
    data: npt.NDArray[np.float64],
    rows: list[list[float]] | None,
    num_clusters: int | None,
    seed: int | None,
    width: int,
) -> npt.NDArray[np.float64]:
    """The baseline as a (rows, features) matrix, sorted for a stable result."""
    if rows is not None:
        base = np.asarray(rows, dtype=np.float64)
        if base.shape[1] != width:
            raise ConfigError(
                f"analysis_config methods.shap.baseline: rows of {base.shape[1]} value(s), but "
                f"the data has {width} feature(s)"
            )
        return base
    distinct = np.unique(data, axis=0)
    k = min(num_clusters or AUTO_CLUSTERS, len(distinct))
    if k == len(distinct):
        return distinct
    # lazy: scikit-learn's clustering loads only when no baseline rows are given
    from sklearn.cluster import KMeans

    fitted = KMeans(n_clusters=k, n_init=10, random_state=0 if seed is None else seed).fit(data)
    centres = np.asarray(fitted.cluster_centers_, dtype=np.float64)
    return centres[np.lexsort(centres.T[::-1])]
