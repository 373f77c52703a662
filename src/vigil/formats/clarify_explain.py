"""Clarify's explainability files: the ``methods.shap`` and ``predictor`` keys of
``analysis_config.json`` and the ``explanations`` section of ``analysis.json``.

Only what explanations need is parsed here (the bias keys are read elsewhere); unknown keys are
ignored, as Clarify ignores them. A bad value is a :class:`~vigil.errors.ConfigError` naming
the key.

>>> cfg = parse_explain_config({"headers": ["a", "b", "y"], "label": "y",
...     "methods": {"shap": {"baseline": [[0.5, 1.0]], "num_samples": 100}},
...     "predictor": {"probability": 1}})
>>> cfg.feature_names, cfg.shap.num_samples, cfg.shap.agg_method, cfg.predictor.probability
(['a', 'b'], 100, 'mean_abs', 1)
>>> section = explanations_section({"label0": ({"a": 0.25, "b": 0.5}, 0.1)})
>>> section["kernel_shap"]["label0"]["expected_value"]
0.1
>>> read_explanations({"explanations": section})["label0"].global_shap_values
{'a': 0.25, 'b': 0.5}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vigil.errors import ConfigError, FormatError

__all__ = [
    "AGG_METHODS",
    "DATASET_TYPES",
    "ExplainConfig",
    "LabelAttribution",
    "PredictorConfig",
    "ShapConfig",
    "explanations_section",
    "parse_explain_config",
    "read_explanations",
]

AGG_METHODS = ("mean_abs", "median", "mean_sq")
DATASET_TYPES = ("text/csv", "application/jsonlines", "application/x-parquet")

Index = int | str  # a column index, or a JMESPath expression / column name


@dataclass(frozen=True)
class ShapConfig:
    """``methods.shap``: the baseline rows (or K-means clusters of the data into
    ``num_clusters``; None = auto), ``num_samples`` (None = auto), aggregation, link, local
    values, seed."""

    baseline: list[list[float]] | None = None
    num_clusters: int | None = None
    num_samples: int | None = None
    agg_method: str = "mean_abs"
    use_logit: bool = False
    save_local_shap_values: bool = False
    seed: int | None = None
    features_to_explain: list[str] | None = None


@dataclass(frozen=True)
class PredictorConfig:
    """``predictor``: where the scores (``probability``) or the label (``label``) sit in the
    model's output (an index, or a JMESPath expression for JSON answers), and the names of the
    scores (``label_headers``). ``content_type``/``accept_type`` are what an HTTP endpoint is
    sent and asked for."""

    probability: Index | None = None
    label: Index | None = None
    label_headers: list[str] | None = None
    content_type: str = "text/csv"
    accept_type: str | None = None
    content_template: str | None = None


@dataclass(frozen=True)
class ExplainConfig:
    """The parts of ``analysis_config.json`` an explanation needs."""

    headers: list[str] | None
    label: Index | None
    predicted_label: Index | None
    excluded_columns: list[Index]
    dataset_type: str | None
    features: str | None  # JMESPath to the feature list (JSON Lines)
    shap: ShapConfig
    predictor: PredictorConfig = field(default_factory=PredictorConfig)

    @property
    def feature_names(self) -> list[str] | None:
        """``headers`` without the label, predicted-label and excluded columns (None when the
        config names no headers: the data's own columns then, less those)."""
        if self.headers is None:
            return None
        drop = {self._name(c) for c in (self.label, self.predicted_label) if c is not None}
        drop |= {self._name(c) for c in self.excluded_columns}
        return [h for h in self.headers if h not in drop]

    def _name(self, column: Index) -> str:
        if isinstance(column, int) and self.headers is not None and column < len(self.headers):
            return self.headers[column]
        return str(column)


def _fail(key: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"analysis_config {key}: expected {expected}, got {value!r}")


def _index(doc: Mapping[str, Any], key: str, where: str) -> Index | None:
    value = doc.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    if isinstance(value, str) and value:
        return value
    raise _fail(f"{where}{key}", "a column index >= 0 or a name / JMESPath string", value)


def _str_list(doc: Mapping[str, Any], key: str, where: str) -> list[str] | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
        raise _fail(f"{where}{key}", "a non-empty list of strings", value)
    return list(value)


def _positive_int(doc: Mapping[str, Any], key: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(f"methods.shap.{key}", "an integer >= 1", value)
    return value


def _flag(doc: Mapping[str, Any], key: str, default: bool) -> bool:
    value = doc.get(key, default)
    if not isinstance(value, bool):
        raise _fail(f"methods.shap.{key}", "true or false", value)
    return value


def _baseline_rows(value: Any) -> list[list[float]] | None:
    """Baseline rows in dataset format: lists of numbers, or ``{"features": [...]}`` objects."""
    if value is None:
        return None
    if isinstance(value, str):
        raise ConfigError(
            f"analysis_config methods.shap.baseline {value!r}: a baseline file or S3 URI is not "
            "read; give the rows inline (a list of rows) or leave it out for K-means clusters"
        )
    if not isinstance(value, list) or not value:
        raise _fail("methods.shap.baseline", "a non-empty list of rows", value)
    rows: list[list[float]] = []
    for i, row in enumerate(value):
        cells = row.get("features") if isinstance(row, dict) else row
        floats: list[float] = []
        if isinstance(cells, list):
            try:
                floats = [float(c) for c in cells]
            except (TypeError, ValueError):
                floats = []
        if not floats or not all(math.isfinite(f) for f in floats):
            raise _fail(f"methods.shap.baseline[{i}]", "a list of finite numbers", row)
        rows.append(floats)
    if len({len(r) for r in rows}) != 1:
        raise ConfigError("analysis_config methods.shap.baseline: rows of different lengths")
    return rows


def parse_shap(doc: Any) -> ShapConfig:
    """``methods.shap`` as a :class:`ShapConfig`."""
    if not isinstance(doc, Mapping):
        raise _fail("methods.shap", "an object", doc)
    if doc.get("baseline") is not None and doc.get("num_clusters") is not None:
        raise ConfigError(
            "analysis_config methods.shap: baseline and num_clusters are mutually exclusive"
        )
    agg = doc.get("agg_method", "mean_abs")
    if agg not in AGG_METHODS:
        raise _fail("methods.shap.agg_method", " | ".join(AGG_METHODS), agg)
    seed = doc.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise _fail("methods.shap.seed", "an integer", seed)
    if doc.get("text_config") is not None or doc.get("image_config") is not None:
        raise ConfigError(
            "analysis_config methods.shap: text_config and image_config are not supported "
            "(tabular data only)"
        )
    return ShapConfig(
        baseline=_baseline_rows(doc.get("baseline")),
        num_clusters=_positive_int(doc, "num_clusters"),
        num_samples=_positive_int(doc, "num_samples"),
        agg_method=agg,
        use_logit=_flag(doc, "use_logit", False),
        save_local_shap_values=_flag(doc, "save_local_shap_values", False),
        seed=seed,
        features_to_explain=_str_list(doc, "features_to_explain", "methods.shap."),
    )


def parse_predictor(doc: Any) -> PredictorConfig:
    """``predictor`` as a :class:`PredictorConfig` (the endpoint keys are not used)."""
    if doc is None:
        return PredictorConfig()
    if not isinstance(doc, Mapping):
        raise _fail("predictor", "an object", doc)
    content_type = doc.get("content_type", "text/csv")
    if content_type not in ("text/csv", "application/jsonlines", "application/json"):
        raise _fail(
            "predictor.content_type", "text/csv, application/jsonlines or application/json",
            content_type,
        )
    template = doc.get("content_template")
    if template is not None and (not isinstance(template, str) or "$features" not in template):
        raise _fail("predictor.content_template", "a string with a $features placeholder",
                    template)
    return PredictorConfig(
        probability=_index(doc, "probability", "predictor."),
        label=_index(doc, "label", "predictor."),
        label_headers=_str_list(doc, "label_headers", "predictor."),
        content_type=content_type,
        accept_type=doc.get("accept_type"),
        content_template=template,
    )


def parse_explain_config(doc: Any) -> ExplainConfig:
    """The explanation part of a whole ``analysis_config.json`` document."""
    if not isinstance(doc, Mapping):
        raise _fail("(top level)", "a JSON object", doc)
    methods = doc.get("methods")
    if not isinstance(methods, Mapping) or "shap" not in methods:
        raise ConfigError("analysis_config methods.shap: missing; explanations need it")
    dataset_type = doc.get("dataset_type")
    if dataset_type is not None and dataset_type not in DATASET_TYPES:
        raise _fail("dataset_type", " | ".join(DATASET_TYPES), dataset_type)
    excluded = doc.get("excluded_columns") or []
    if not isinstance(excluded, list):
        raise _fail("excluded_columns", "a list of column names or indexes", excluded)
    features = doc.get("features")
    if features is not None and not isinstance(features, str):
        raise _fail("features", "a JMESPath string", features)
    return ExplainConfig(
        headers=_str_list(doc, "headers", ""),
        label=_index(doc, "label", ""),
        predicted_label=_index(doc, "predicted_label", ""),
        excluded_columns=list(excluded),
        dataset_type=dataset_type,
        features=features,
        shap=parse_shap(methods["shap"]),
        predictor=parse_predictor(doc.get("predictor")),
    )


# -- analysis.json's explanations section ----------------------------------------------------


@dataclass(frozen=True)
class LabelAttribution:
    """One label's entry of ``explanations.kernel_shap``."""

    global_shap_values: dict[str, float]
    expected_value: float


def explanations_section(
    labels: Mapping[str, tuple[Mapping[str, float], float]],
) -> dict[str, Any]:
    """The ``explanations`` section: label -> (global SHAP values by feature, expected
    value)."""
    return {
        "kernel_shap": {
            label: {
                "global_shap_values": {k: float(v) for k, v in values.items()},
                "expected_value": float(expected),
            }
            for label, (values, expected) in labels.items()
        }
    }


def read_explanations(
    doc: Any, *, source: str = "analysis.json"
) -> dict[str, LabelAttribution]:
    """The ``kernel_shap`` labels of a whole ``analysis.json`` (Clarify's or Vigil's)."""
    section = doc.get("explanations") if isinstance(doc, Mapping) else None
    shap = section.get("kernel_shap") if isinstance(section, Mapping) else None
    if not isinstance(shap, Mapping) or not shap:
        raise FormatError(f"{source}: no explanations.kernel_shap section")
    result: dict[str, LabelAttribution] = {}
    for label, entry in shap.items():
        where = f"{source}: explanations.kernel_shap.{label}"
        values = entry.get("global_shap_values") if isinstance(entry, Mapping) else None
        if not isinstance(values, Mapping) or not values:
            raise FormatError(f"{where}.global_shap_values: expected an object of numbers")
        try:
            parsed = {str(k): float(v) for k, v in values.items()}
            expected = float(entry.get("expected_value", math.nan))
        except (TypeError, ValueError):
            raise FormatError(f"{where}: expected numbers") from None
        result[str(label)] = LabelAttribution(parsed, expected)
    return result


def label_names(count: int, headers: Sequence[str] | None) -> list[str]:
    """The ``kernel_shap`` keys: the ``label_headers`` when they name every output, else
    ``label0``, ``label1``, ...

    >>> label_names(2, None), label_names(1, ["yes"])
    (['label0', 'label1'], ['yes'])
    """
    if headers is not None and len(headers) == count:
        return list(headers)
    return [f"label{i}" for i in range(count)]
