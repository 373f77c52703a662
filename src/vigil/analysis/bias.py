"""Bias analysis of data files or frames: read → Clarify's bias metrics → ``analysis.json``.

Data (as Clarify's processing job reads its ``dataset``): CSV without a header row takes its
column names from the config's ``headers`` (a first row equal to ``headers`` is read as a header
row); JSON Lines records give the features through the ``features`` JMESPath and the label and
predicted label through ``label`` / ``predicted_label`` (columns named from ``headers``: the
features, then the label, then the predicted label); Parquet as it is. Several files are
concatenated. Column types are inferred as pandas does (integers, floats, strings).

>>> import pyarrow as pa
>>> from vigil.formats.clarify_config import AnalysisConfig
>>> cfg = AnalysisConfig.from_dict({"label": "y", "label_values_or_threshold": [1],
...     "facet": [{"name_or_index": "s", "value_or_threshold": [1]}]})
>>> doc = bias(pa.table({"s": [0, 1] * 30, "y": [1, 0, 0] * 20}), cfg)
>>> [m["name"] for m in doc.pre_training["facets"]["s"][0]["metrics"]][:3]
['CDDL', 'CI', 'DPL']
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import jmespath
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv

from vigil.checks.bias.compute import compute_analysis
from vigil.checks.bias.data import from_arrow
from vigil.checks.bias.report import BiasData
from vigil.errors import ConfigError, EmptyInputError, InputError
from vigil.formats.clarify_analysis import AnalysisDocument
from vigil.formats.clarify_config import AnalysisConfig
from vigil.io.readers import iter_tables, resolve_inputs, to_arrow

FORMATS = {
    "text/csv": "csv",
    "application/jsonlines": "jsonl",
    "application/x-parquet": "parquet",
}


def _format(path: Path, config: AnalysisConfig) -> str:
    if config.dataset_type in FORMATS:
        return FORMATS[config.dataset_type]
    if config.dataset_type is not None:
        raise ConfigError(
            f"dataset_type {config.dataset_type!r}: vigil bias reads " + ", ".join(FORMATS)
        )
    suffix = path.name.lower().removesuffix(".gz").rsplit(".", 1)[-1]
    return {"csv": "csv", "jsonl": "jsonl", "json": "jsonl", "parquet": "parquet"}.get(
        suffix, "csv"
    )


def _read_csv(path: Path, headers: list[str] | None, delimiter: str) -> pa.Table:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        first = next(csv.reader(fh, delimiter=delimiter), None)
    if first is None:
        raise EmptyInputError(f"{path}: file is empty")
    has_header = headers is None or [c.strip() for c in first] == headers
    if headers is not None and not has_header and len(first) != len(headers):
        raise InputError(
            f"{path}: {len(first)} columns but headers in the config names {len(headers)}"
        )
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=None if has_header else headers,
                encoding="utf8",
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
        )
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"{path}: cannot read as CSV: {exc}") from None


def _read_jsonl(path: Path, config: AnalysisConfig) -> tuple[pa.Table, dict[str, Any]]:
    if not config.features:
        raise ConfigError("features: a JMESPath to the feature list is needed for JSON Lines")
    rows: list[list[Any]] = []
    width = None
    for lineno, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
            feats = jmespath.search(config.features, record)
        except (orjson.JSONDecodeError, jmespath.exceptions.JMESPathError) as exc:
            raise InputError(f"{path}:{lineno}: {exc}") from None
        if not isinstance(feats, list):
            raise InputError(f"{path}:{lineno}: features {config.features!r} is not a list")
        extra = [
            jmespath.search(str(expr), record)
            for expr in (config.label, config.predicted_label)
            if expr is not None
        ]
        if width is None:
            width = len(feats)
        elif len(feats) != width:
            raise InputError(f"{path}:{lineno}: {len(feats)} features, expected {width}")
        rows.append([*feats, *extra])
    if not rows or width is None:
        raise EmptyInputError(f"{path}: no records")
    names = list(config.headers or [])
    wanted = width + (config.label is not None) + (config.predicted_label is not None)
    names = names[:wanted] + [f"column_{i}" for i in range(len(names), wanted)]
    renamed: dict[str, Any] = {}
    at = width
    for key in ("label", "predicted_label"):
        if getattr(config, key) is not None:
            renamed[key] = names[at]
            at += 1
    columns = list(zip(*rows))
    return pa.table({n: pa.array(list(c)) for n, c in zip(names, columns)}), renamed


def read_bias_data(
    data: Any, config: AnalysisConfig, *, delimiter: str = ","
) -> tuple[BiasData, AnalysisConfig]:
    """The data (paths, or a pyarrow / pandas / Polars table) as :class:`BiasData`, and the
    config with JSON Lines' label paths replaced by the column names they were read into."""
    table = to_arrow(data)
    if table is not None:
        return from_arrow(table), config
    inputs = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    tables: list[pa.Table] = []
    renamed: dict[str, Any] = {}
    for path in resolve_inputs(inputs):
        fmt = _format(path, config)
        if fmt == "csv":
            tables.append(_read_csv(path, config.headers, delimiter))
        elif fmt == "jsonl":
            t, renamed = _read_jsonl(path, config)
            tables.append(t)
        else:
            tables.extend(iter_tables(path, format="parquet"))
    if not tables:
        raise EmptyInputError("no data files in the inputs")
    try:
        whole = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(f"the input files do not share their columns: {exc}") from None
    return from_arrow(whole), replace(config, **renamed) if renamed else config


def bias(
    data: Any,
    config: AnalysisConfig | dict[str, Any] | str | os.PathLike[str],
    *,
    stages: Sequence[str] | None = None,
    strict_thresholds: bool = True,
) -> AnalysisDocument:
    """Clarify's bias analysis of ``data`` (paths or a table) under ``config`` (an
    :class:`AnalysisConfig`, its JSON as a dict, or the path of ``analysis_config.json``):
    pre-training metrics, and post-training ones when the data gives predicted labels
    (``predicted_label``, or ``predictor.probability`` with ``probability_threshold``)."""
    if isinstance(config, (str, os.PathLike)):
        config = AnalysisConfig.load(config)
    elif isinstance(config, dict):
        config = AnalysisConfig.from_dict(config)
    bias_data, cfg = read_bias_data(data, config)
    return compute_analysis(
        bias_data,
        cfg,
        stages=list(stages) if stages is not None else None,
        strict_thresholds=strict_thresholds,
    )
