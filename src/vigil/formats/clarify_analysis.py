"""Clarify's ``analysis.json``: a document of optional sections, written as Clarify writes it.

The bias sections (``pre_training_bias_metrics``, ``post_training_bias_metrics``) and the
``explanations`` section are plain JSON objects here, so each part of Vigil adds its own
section without this module knowing its shape. Metric values of +/-inf are written as the
strings ``"Infinity"`` / ``"-Infinity"`` (by the bias code, as Clarify); keys keep their order.

>>> doc = AnalysisDocument(pre_training={"label": "y", "label_value_or_threshold": "1",
...                                      "facets": {}})
>>> sorted(doc.to_dict())
['pre_training_bias_metrics', 'version']
>>> AnalysisDocument.from_dict(doc.to_dict()).pre_training["label"]
'y'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigil.errors import FormatError
from vigil.formats._base import write_atomic
from vigil.locations import Location, ObjectPath, as_location

PRE = "pre_training_bias_metrics"
POST = "post_training_bias_metrics"
EXPLANATIONS = "explanations"


@dataclass
class AnalysisDocument:
    """A whole ``analysis.json``; ``extra`` keeps any other top-level key as read."""

    version: str = "1.0"
    pre_training: dict[str, Any] | None = None
    post_training: dict[str, Any] | None = None
    explanations: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.version}
        if self.pre_training is not None:
            out[PRE] = self.pre_training
        if self.post_training is not None:
            out[POST] = self.post_training
        if self.explanations is not None:
            out[EXPLANATIONS] = self.explanations
        out.update(self.extra)
        return out

    def dumps(self) -> str:
        """Pretty-printed JSON (4 spaces, as Clarify's files)."""
        return json.dumps(self.to_dict(), indent=4, ensure_ascii=False) + "\n"

    def save(self, path: str | Path | ObjectPath) -> Location:
        """Write atomically (a directory gets ``analysis.json`` inside it)."""
        target = as_location(path)
        if target.is_dir() or target.suffix != ".json":
            target = target / "analysis.json"
        return write_atomic(target, self.dumps())

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "analysis.json") -> AnalysisDocument:
        if not isinstance(data, dict):
            raise FormatError(f"{source}: expected a JSON object at the top level")
        sections: dict[str, dict[str, Any] | None] = {}
        for key in (PRE, POST, EXPLANATIONS):
            value = data.get(key)
            if value is not None and not isinstance(value, dict):
                raise FormatError(f"{source}: key '{key}': expected an object")
            if key != EXPLANATIONS and value is not None:
                _check_stage(value, f"{source}: key '{key}'")
            sections[key] = value
        extra = {k: v for k, v in data.items() if k not in ("version", PRE, POST, EXPLANATIONS)}
        return cls(
            str(data.get("version", "1.0")),
            sections[PRE],
            sections[POST],
            sections[EXPLANATIONS],
            extra,
        )

    @classmethod
    def load(cls, path: str | Path | ObjectPath) -> AnalysisDocument:
        """Read a file (or ``DIR/analysis.json``), local or at an object-store URL."""
        p = as_location(path)
        if p.is_dir():
            p = p / "analysis.json"
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise FormatError(f"{p}: cannot read: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise FormatError(f"{p}: not JSON: {exc}") from None
        return cls.from_dict(data, source=str(p))


def _check_stage(section: dict[str, Any], where: str) -> None:
    facets = section.get("facets", {})
    if not isinstance(facets, dict):
        raise FormatError(f"{where}.facets: expected an object of facet names")
    for name, entries in facets.items():
        if not isinstance(entries, list):
            raise FormatError(f"{where}.facets.{name}: expected a list of facet values")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or "value_or_threshold" not in entry:
                raise FormatError(f"{where}.facets.{name}[{i}]: expected value_or_threshold")
            metrics = entry.get("metrics", [])
            if not isinstance(metrics, list) or not all(
                isinstance(m, dict) and "name" in m for m in metrics
            ):
                raise FormatError(f"{where}.facets.{name}[{i}].metrics: expected named metrics")
