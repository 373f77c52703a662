"""The metrics of a regression model: ``mae``, ``mse``, ``rmse``, ``r2`` (scikit-learn's
``mean_absolute_error``, ``mean_squared_error``, its square root, ``r2_score``).

>>> regression_scalars(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))["r2"]
0.5
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from vigil.checks.model_quality.sklearn_metrics import sklearn_metrics

__all__ = ["regression_scalars"]


def regression_scalars(t: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """The regression metrics of truth ``t`` and predictions ``p`` (``r2`` NaN below two
    rows)."""
    m = sklearn_metrics()
    mse = float(m.mean_squared_error(t, p))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r2 = float(m.r2_score(t, p)) if len(t) >= 2 else math.nan
    return {"mae": float(m.mean_absolute_error(t, p)), "mse": mse, "rmse": math.sqrt(mse),
            "r2": r2}
