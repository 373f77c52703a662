"""The result objects of a bias report, shaped as Clarify's ``analysis.json`` sections."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

INFINITY_TEXT = {math.inf: "Infinity", -math.inf: "-Infinity"}


def json_value(value: float | None) -> float | str | None:
    """A metric value as Clarify writes it: +/-inf as ``"Infinity"`` / ``"-Infinity"``."""
    if value is not None and math.isinf(value):
        return INFINITY_TEXT[value]
    return value


def parse_value(value: Any) -> float | None:
    """A metric value read from ``analysis.json`` (``"Infinity"`` strings, ``null``)."""
    if value is None:
        return None
    if isinstance(value, str):
        return float(value.replace("Infinity", "inf"))
    return float(value)


@dataclass(frozen=True)
class MetricResult:
    """One metric of one facet value: a value, or ``None`` and the error that prevented it."""

    name: str
    description: str
    value: float | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "value": json_value(self.value),
        }
        if self.error is not None:
            out["error"] = self.error
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricResult:
        error = data.get("error")
        return cls(
            str(data["name"]),
            str(data.get("description", "")),
            parse_value(data.get("value")),
            None if error is None else str(error),
        )


@dataclass(frozen=True)
class FacetValueResult:
    """The metrics of one facet value (one entry of ``facets.<name>``)."""

    value_or_threshold: str
    metrics: list[MetricResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "value_or_threshold": self.value_or_threshold,
            "metrics": [m.to_dict() for m in self.metrics],
        }

    def metric(self, name: str) -> MetricResult | None:
        """The metric called ``name``, if listed."""
        return next((m for m in self.metrics if m.name == name), None)


@dataclass
class StageReport:
    """``pre_training_bias_metrics`` or ``post_training_bias_metrics``."""

    label: str
    label_value_or_threshold: str
    facets: dict[str, list[FacetValueResult]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "label_value_or_threshold": self.label_value_or_threshold,
            "facets": {
                name: [entry.to_dict() for entry in entries]
                for name, entries in self.facets.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageReport:
        facets = {
            str(name): [
                FacetValueResult(
                    str(entry["value_or_threshold"]),
                    [MetricResult.from_dict(m) for m in entry.get("metrics", [])],
                )
                for entry in entries
            ]
            for name, entries in dict(data.get("facets", {})).items()
        }
        return cls(
            str(data.get("label", "")), str(data.get("label_value_or_threshold", "")), facets
        )
