"""scikit-learn's metrics module, imported on first use."""

from __future__ import annotations

from typing import Any

from vigil.errors import ConfigError

__all__ = ["sklearn_metrics"]


def sklearn_metrics() -> Any:
    """``sklearn.metrics``; an error saying how to install scikit-learn when it is missing."""
    try:
        # lazy on purpose: importing scikit-learn takes most of a second, which every start of
        # the CLI would pay even for commands that compute no model-quality metric
        from sklearn import metrics
    except ImportError:  # pragma: no cover - scikit-learn is installed with vigil
        raise ConfigError(
            "model-quality metrics need scikit-learn; install it with pip install scikit-learn"
        ) from None
    return metrics
