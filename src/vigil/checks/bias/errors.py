"""The errors of the bias metrics."""

from __future__ import annotations

from vigil.errors import InputError, VigilError


class BiasReportError(InputError):
    """A bias report that cannot be computed at all: a column that is not in the data, a
    predicted label whose type differs from the label's, no positive prediction, a threshold
    that selects nothing. (A metric that cannot be computed for one facet value is not an
    error: it is listed with ``value: null`` and its ``error``.)"""

    code = "bias_report"


class BiasMetricError(VigilError, ValueError):
    """One metric that cannot be computed for one facet value; the report lists the metric
    with ``value: null`` and :attr:`message` (smclarify's wording) as its ``error``."""

    code = "bias_metric"


class SelectionError(BiasMetricError):
    """A value list that cannot be cast to the column's type (smclarify's wording)."""
