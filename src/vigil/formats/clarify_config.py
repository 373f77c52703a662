"""Clarify's ``analysis_config.json``: the keys Vigil reads, checked with errors naming the key.

>>> cfg = AnalysisConfig.from_dict({
...     "dataset_type": "text/csv", "headers": ["age", "sex", "y"], "label": "y",
...     "label_values_or_threshold": [1], "facet": [{"name_or_index": "sex"}],
...     "methods": {"pre_training_bias": {"methods": "all"}}})
>>> cfg.label, cfg.facets[0].name_or_index, cfg.facets[0].value_or_threshold, cfg.pre_training
('y', 'sex', None, 'all')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from vigil.errors import FormatError
from vigil.locations import ObjectPath, as_location

DATASET_TYPES = (
    "text/csv",
    "application/jsonlines",
    "application/json",
    "application/x-parquet",
    "application/x-image",
    "application/sagemakercapturejson",
)
Methods = str | list[str] | None  # "all", a list of metric names, or not asked for


@dataclass(frozen=True)
class FacetConfig:
    """One entry of ``facet``: the column, and its values or threshold (None: one-vs-all)."""

    name_or_index: str | int
    value_or_threshold: list[Any] | None = None


@dataclass(frozen=True)
class AnalysisConfig:
    """The parsed ``analysis_config.json`` (``raw`` keeps the whole document, so the keys of
    other parts (``methods.shap``, ``predictor``, join columns) are at hand)."""

    version: str = "1.0"
    dataset_type: str | None = None
    headers: list[str] | None = None
    label: str | int | None = None
    predicted_label: str | int | None = None
    features: str | None = None
    label_values_or_threshold: list[Any] | None = None
    probability_threshold: float = 0.5
    facets: list[FacetConfig] = field(default_factory=list)
    group_variable: str | int | None = None
    excluded_columns: list[str | int] = field(default_factory=list)
    pre_training: Methods = None
    post_training: Methods = None
    shap: dict[str, Any] | None = None
    report: dict[str, Any] | None = None
    pdp: dict[str, Any] | None = None
    predictor: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def probability(self) -> str | int | None:
        """``predictor.probability``: where the model's score is (a column, for bias)."""
        value = (self.predictor or {}).get("probability")
        return value if isinstance(value, (str, int)) else None

    @classmethod
    def load(cls, path: str | os.PathLike[str] | ObjectPath) -> AnalysisConfig:
        """Read and check a file (local or a URL); a :class:`~vigil.errors.FormatError` names
        the file and key."""
        p = as_location(path)
        try:
            data = orjson.loads(p.read_bytes())
        except OSError as exc:
            raise FormatError(f"{p}: cannot read: {exc.strerror or exc}") from None
        except orjson.JSONDecodeError as exc:
            raise FormatError(f"{p}: not JSON: {exc}") from None
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "analysis_config.json") -> AnalysisConfig:
        """Check plain JSON data; a :class:`~vigil.errors.FormatError` names the key."""
        if not isinstance(data, Mapping):
            raise FormatError(f"{source}: expected a JSON object at the top level")

        def bad(key: str, expected: str) -> FormatError:
            return FormatError(f"{source}: key '{key}': expected {expected}, got {data[key]!r}")

        def opt(key: str, types: tuple[type, ...], expected: str) -> Any:
            value = data.get(key)
            if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
                raise bad(key, expected)
            return value

        version = str(opt("version", (str, int, float), 'a string such as "1.0"') or "1.0")
        dataset_type = opt("dataset_type", (str,), "a string")
        if dataset_type is not None and dataset_type not in DATASET_TYPES:
            raise bad("dataset_type", "one of " + ", ".join(DATASET_TYPES))
        headers = opt("headers", (list,), "a list of column names")
        if headers is not None and not all(isinstance(h, str) for h in headers):
            raise bad("headers", "a list of strings")
        label = opt("label", (str, int), "a column name or index")
        predicted = opt("predicted_label", (str, int), "a column name or index")
        features = opt("features", (str,), "a JMESPath expression")
        values = data.get("label_values_or_threshold")
        if values is not None:
            values = values if isinstance(values, list) else [values]
            if not values or not all(isinstance(v, (str, int, float)) for v in values):
                raise bad("label_values_or_threshold", "a non-empty list of values or a threshold")
        threshold = opt("probability_threshold", (int, float), "a number")
        group = opt("group_variable", (str, int), "a column name or index")
        excluded = opt("excluded_columns", (list,), "a list of column names or indexes") or []
        facets = _facets(data.get("facet"), source)
        methods = data.get("methods") or {}
        if not isinstance(methods, Mapping):
            raise bad("methods", "an object")
        predictor = opt("predictor", (dict,), "an object")
        return cls(
            version=version,
            dataset_type=dataset_type,
            headers=headers,
            label=label,
            predicted_label=predicted,
            features=features,
            label_values_or_threshold=values,
            probability_threshold=0.5 if threshold is None else float(threshold),
            facets=facets,
            group_variable=group,
            excluded_columns=list(excluded),
            pre_training=_methods(methods, "pre_training_bias", source),
            post_training=_methods(methods, "post_training_bias", source),
            shap=_section(methods, "shap", source),
            report=_section(methods, "report", source),
            pdp=_section(methods, "pdp", source),
            predictor=predictor,
            raw=dict(data),
        )

    def to_dict(self) -> dict[str, Any]:
        """The document as read (unknown keys kept)."""
        return dict(self.raw)


def _facets(value: Any, source: str) -> list[FacetConfig]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        raise FormatError(f"{source}: key 'facet': expected a list of objects, got {value!r}")
    out = []
    for i, entry in enumerate(value):
        where = f"{source}: key 'facet[{i}]'"
        if not isinstance(entry, Mapping) or "name_or_index" not in entry:
            raise FormatError(f"{where}: expected an object with 'name_or_index', got {entry!r}")
        name = entry["name_or_index"]
        if not isinstance(name, (str, int)) or isinstance(name, bool):
            raise FormatError(f"{where}.name_or_index: expected a column name or index")
        vals = entry.get("value_or_threshold")
        if vals is not None:
            vals = vals if isinstance(vals, list) else [vals]
            if not vals or not all(isinstance(v, (str, int, float)) for v in vals):
                raise FormatError(
                    f"{where}.value_or_threshold: expected a non-empty list of values or a "
                    f"threshold, got {entry['value_or_threshold']!r}"
                )
        out.append(FacetConfig(name, vals))
    return out


def _methods(methods: Mapping[str, Any], key: str, source: str) -> Methods:
    section = methods.get(key)
    if section is None:
        return None
    if not isinstance(section, Mapping):
        raise FormatError(f"{source}: key 'methods.{key}': expected an object")
    names = section.get("methods", "all")
    if names == "all":
        return "all"
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        return list(names)
    raise FormatError(
        f"{source}: key 'methods.{key}.methods': expected \"all\" or a list of metric names, "
        f"got {names!r}"
    )


def _section(methods: Mapping[str, Any], key: str, source: str) -> dict[str, Any] | None:
    section = methods.get(key)
    if section is None:
        return None
    if not isinstance(section, Mapping):
        raise FormatError(f"{source}: key 'methods.{key}': expected an object")
    return dict(section)
